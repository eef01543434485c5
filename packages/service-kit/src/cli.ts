import type { Command } from "commander";
import { describeError } from "./errno.js";
import { ConfigError } from "./errors.js";

/** The command did what was asked. */
export const EXIT_OK = 0;
/** It failed at run time (server unreachable, refused, a file it needs is missing …). */
export const EXIT_FAILURE = 1;
/** The command line or the configuration is wrong: fix it before trying again. */
export const EXIT_USAGE = 2;

/**
 * Exit codes of `status` commands, as LSB init scripts read them: 0 running and healthy,
 * 1 running but unhealthy (or dead with a pidfile left), 3 not running, 4 unknown.
 */
export const STATUS_EXIT = { healthy: 0, unhealthy: 1, notRunning: 3, unknown: 4 } as const;

/** What parsing a command line produced: a command to run, or text to print and an exit code. */
export type CliParseResult<T> =
  | { readonly kind: "run"; readonly command: T }
  | { readonly kind: "exit"; readonly code: number; readonly output: string };

/** Receives the command a commander action parsed. */
export type RecordCommand<T> = (command: T) => void;

function capture(command: Command, sink: { output: string }): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => (sink.output += text),
    writeErr: (text) => (sink.output += text),
  });
  for (const sub of command.commands) capture(sub, sink);
}

/**
 * The exit code commander asked for, or undefined for any other error. Checked by shape, not
 * instanceof: each package may resolve its own copy of commander.
 */
function commanderExitCode(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, exitCode } = error as Error & { code?: unknown; exitCode?: unknown };
  const fromCommander =
    error.name === "CommanderError" ||
    error.name === "InvalidArgumentError" ||
    (typeof code === "string" && code.startsWith("commander."));
  return fromCommander && typeof exitCode === "number" ? exitCode : undefined;
}

/**
 * Parses `argv` (without node and the script) with a commander program whose actions call
 * `record`, without printing or exiting, so the CLI and its argument tests share it. Help and
 * --version give exit code 0, a usage error or no command {@link EXIT_USAGE}; their text is
 * in `output`.
 */
export function parseCommandLine<T>(
  build: (record: RecordCommand<T>) => Command,
  argv: readonly string[],
): CliParseResult<T> {
  const found: { command?: T } = {};
  const program = build((command) => {
    found.command = command;
  });
  const sink = { output: "" };
  capture(program, sink);
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    const exitCode = commanderExitCode(error);
    if (exitCode !== undefined) {
      return { kind: "exit", code: exitCode === 0 ? EXIT_OK : EXIT_USAGE, output: sink.output };
    }
    throw error;
  }
  if (found.command === undefined) {
    return { kind: "exit", code: EXIT_USAGE, output: `${sink.output}${program.helpInformation()}` };
  }
  return { kind: "run", command: found.command };
}

/** An error class whose instances mean "fix the command line or config" (exit {@link EXIT_USAGE}). */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Program name, the prefix of the one error line: `osad2-client`. */
  readonly program: string;
  /** Errors that exit {@link EXIT_USAGE}; {@link ConfigError} always does. */
  readonly usageErrors?: readonly ErrorClass[];
  /** Where the error line goes. Default process.stderr. */
  readonly stderr?: { write(text: string): unknown };
  /** Ends the process. Default process.exit. */
  readonly exit?: (code: number) => void;
}

/** The exit code for an error that reached the top: usage errors 2, everything else 1. */
export function exitCodeFor(error: unknown, usageErrors: readonly ErrorClass[] = []): number {
  return [ConfigError, ...usageErrors].some((type) => error instanceof type)
    ? EXIT_USAGE
    : EXIT_FAILURE;
}

/**
 * The one place a CLI exits: runs `main(argv)` and exits with the code it returns; an error
 * that escapes is printed as one line, `<program>: <message>`, and exits 2 for usage errors,
 * 1 otherwise. Libraries throw; only this exits.
 */
export function runCli(
  main: (argv: readonly string[]) => Promise<number>,
  options: RunCliOptions,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const stderr = options.stderr ?? process.stderr;
  return main(argv).then(
    (code) => exit(code),
    (error: unknown) => {
      stderr.write(`${options.program}: ${describeError(error)}\n`);
      exit(exitCodeFor(error, options.usageErrors));
    },
  );
}

/** Prints a parse result's text (help to stdout, errors to stderr) and returns its exit code. */
export function printParseExit(
  result: Extract<CliParseResult<unknown>, { kind: "exit" }>,
  streams: {
    stdout: { write(text: string): unknown };
    stderr: { write(text: string): unknown };
  } = process,
): number {
  (result.code === EXIT_OK ? streams.stdout : streams.stderr).write(result.output);
  return result.code;
}
