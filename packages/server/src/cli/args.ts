import { Command, CommanderError, Option } from "commander";
import { SERVER_CONFIG_FIELDS, SERVER_CONFIG_SCHEMA, flagName } from "../config/schema.js";
import { DEFAULT_CONFIG_PATH } from "../config/load.js";

/** The commands of `osad2-server`. */
export type CliCommand = "run" | "init" | "status";

/** A parsed command line. */
export interface CliInvocation {
  readonly command: CliCommand;
  /** The config file to read. */
  readonly configPath: string;
  /** True when --config was given (then a missing file is an error). */
  readonly configRequired: boolean;
  /** Raw values of config flags, by INI key (`--publisher-port 1` → `publisher_port: "1"`). */
  readonly flags: Readonly<Record<string, string>>;
  /** init only: install the opt-in PostgreSQL NOTIFY trigger. */
  readonly notifyTrigger: boolean;
}

/** What parsing produced: an invocation, or text to print and an exit code (help, version, usage error). */
export type CliParseResult =
  | { readonly kind: "invocation"; readonly invocation: CliInvocation }
  | { readonly kind: "exit"; readonly code: number; readonly output: string };

const BOOLEAN_KEYS = new Set(["debug", "renotify_picked_up"]);

function addConfigOptions(command: Command): Command {
  command.option(
    "-c, --config <file>",
    `config file (INI, [main]); default ${DEFAULT_CONFIG_PATH}`,
  );
  command.option("--db <url>", "database URL (same as --database)");
  for (const field of SERVER_CONFIG_FIELDS) {
    const spec = SERVER_CONFIG_SCHEMA[field];
    const flag = flagName(spec.key);
    const option = BOOLEAN_KEYS.has(spec.key)
      ? new Option(`${flag} [0|1]`, `${spec.doc}; the bare flag means 1`)
      : new Option(`${flag} <value>`, spec.doc);
    command.addOption(option);
  }
  return command;
}

/**
 * Parses `osad2-server <command> [flags]` without exiting or printing, so the CLI and the
 * argument tests share it. argv excludes the node binary and script (process.argv.slice(2)).
 */
export function parseCliArgs(argv: readonly string[], version: string): CliParseResult {
  let output = "";
  let invocation: CliInvocation | undefined;
  const program = new Command("osad2-server")
    .description(
      "osad2 server: tells Spacewalk systems over CURVE-secured ZeroMQ to check in when actions are due",
    )
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: (text) => (output += text), writeErr: (text) => (output += text) })
    .showHelpAfterError();
  const commands: [CliCommand, string][] = [
    ["run", "run the server in the foreground (systemd: Type=simple)"],
    ["init", "create the standalone database schema and the server keys when missing"],
    ["status", "print the server's state as JSON"],
  ];
  for (const [name, description] of commands) {
    const command = addConfigOptions(program.command(name).description(description))
      .exitOverride()
      .configureOutput({
        writeOut: (text) => (output += text),
        writeErr: (text) => (output += text),
      });
    if (name === "init") {
      command.option(
        "--notify-trigger",
        "also install the PostgreSQL NOTIFY trigger on rhnServerAction (instant wake-up)",
      );
    }
    command.action((options: Record<string, string | boolean | undefined>) => {
      invocation = toInvocation(name, options);
    });
  }
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const code =
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ? 0 : 2;
      return { kind: "exit", code, output };
    }
    throw error;
  }
  if (invocation === undefined) {
    return { kind: "exit", code: 2, output: `${output}${program.helpInformation()}` };
  }
  return { kind: "invocation", invocation };
}

function toInvocation(
  command: CliCommand,
  options: Record<string, string | boolean | undefined>,
): CliInvocation {
  const flags: Record<string, string> = {};
  for (const field of SERVER_CONFIG_FIELDS) {
    const key = SERVER_CONFIG_SCHEMA[field].key;
    // commander camel-cases flag names exactly like the schema's field names.
    const value = options[field];
    if (value === undefined) continue;
    flags[key] = value === true ? "1" : String(value);
  }
  if (typeof options.db === "string") flags.database = options.db;
  const config = options.config;
  return {
    command,
    configPath: typeof config === "string" ? config : DEFAULT_CONFIG_PATH,
    configRequired: typeof config === "string",
    flags,
    notifyTrigger: options.notifyTrigger === true,
  };
}
