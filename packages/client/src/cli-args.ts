import { Command, CommanderError, Option } from "commander";
import {
  CONFIG_SCHEMA,
  DEFAULT_CONFIG_PATH,
  type ConfigKey,
  camelCase,
  flagName,
} from "./config-schema.js";
import type { ConfigOverrides } from "./config.js";
import { CLIENT_VERSION } from "./version.js";

/** The CLI's commands. */
export type CliCommand = "run" | "register" | "status";

/** What the command line asks for. */
export interface CliArgs {
  readonly command: CliCommand;
  /** --config FILE, or the default path. */
  readonly configPath: string;
  /** Every `--kebab-case <value>` given, keyed by `[osad]` key. */
  readonly overrides: ConfigOverrides;
}

/** The result of parsing: arguments, or text already printed (help, version) and an exit code. */
export type CliParse = { readonly args: CliArgs } | { readonly exitCode: number };

const COMMANDS: Record<CliCommand, string> = {
  run: "run the service: register, stay connected, run rhn_check when the server asks",
  register: "call register_osad once and print the reply as JSON (rotates the client name)",
  status: "print the running service's state file (registration, connection, last run) as JSON",
};

/** Builds the commander program; `--help` lists every config key as a flag. */
export function buildProgram(onParsed: (args: CliArgs) => void): Command {
  const program = new Command("osad2-client")
    .description("osad2 client: runs rhn_check the moment Spacewalk has work for this system")
    .version(CLIENT_VERSION)
    .showHelpAfterError()
    .exitOverride();
  for (const [command, description] of Object.entries(COMMANDS) as [CliCommand, string][]) {
    const sub = program.command(command).description(description).exitOverride();
    sub.addOption(new Option("--config <file>", "client config file").default(DEFAULT_CONFIG_PATH));
    for (const [key, spec] of Object.entries(CONFIG_SCHEMA)) {
      sub.addOption(
        new Option(
          `${flagName(key)} <value>`,
          `${spec.doc} [${key}; default ${JSON.stringify(spec.default)}]`,
        ),
      );
    }
    sub.action((opts: Record<string, string>) => {
      const overrides: ConfigOverrides = {};
      for (const key of Object.keys(CONFIG_SCHEMA) as ConfigKey[]) {
        const value = opts[camelCase(key)];
        if (value !== undefined) overrides[key] = value;
      }
      onParsed({ command, configPath: opts.config ?? DEFAULT_CONFIG_PATH, overrides });
    });
  }
  return program;
}

/**
 * Parses argv (without node and script). Help and version print and return their exit code;
 * usage errors print commander's message and return 2.
 */
export function parseCliArgs(
  argv: readonly string[],
  output: { writeOut?: (s: string) => void; writeErr?: (s: string) => void } = {},
): CliParse {
  let parsed: CliArgs | undefined;
  const program = buildProgram((args) => {
    parsed = args;
  });
  program.configureOutput(output);
  for (const sub of program.commands) sub.configureOutput(output);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return { exitCode: 2 };
  }
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpOrVersion = [
        "commander.helpDisplayed",
        "commander.version",
        "commander.help",
      ].includes(error.code);
      return { exitCode: helpOrVersion ? 0 : 2 };
    }
    throw error;
  }
  return parsed ? { args: parsed } : { exitCode: 2 };
}
