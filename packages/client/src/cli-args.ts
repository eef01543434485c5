import {
  addConfigOptions,
  configFlagValues,
  parseCommandLine,
  withDefaultCommand,
  withoutDetachFlag,
  type CliParseResult,
  type RecordCommand,
} from "@osad2/service-kit";
import { Command, Option } from "commander";
import { CLIENT_CONFIG, DEFAULT_CONFIG_PATH } from "./config-schema.js";
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
  /** run only: `-d`, start in the background as the seed's init scripts expect. */
  readonly detach: boolean;
}

const COMMANDS: Record<CliCommand, string> = {
  run: "run the service: register, stay connected, run rhn_check when the server asks",
  register: "call register_osad once and print the reply as JSON (rotates the client name)",
  status: "print the running service's state file (registration, connection, last run) as JSON",
};

/** Builds the commander program; `--help` lists every config key as a flag. */
export function buildProgram(record: RecordCommand<CliArgs>): Command {
  const program = new Command("osad2-client")
    .description("osad2 client: runs rhn_check the moment Spacewalk has work for this system")
    .version(CLIENT_VERSION)
    .showHelpAfterError();
  for (const [command, description] of Object.entries(COMMANDS) as [CliCommand, string][]) {
    const sub = program.command(command).description(description);
    sub.addOption(
      new Option("-c, --config <file>", "client config file").default(DEFAULT_CONFIG_PATH),
    );
    addConfigOptions(sub, CLIENT_CONFIG);
    if (command === "run") {
      sub.option(
        "-d, --detach",
        "start in the background (for SysV init scripts; needs pidfile and logfile); systemd runs it without -d",
      );
    }
    sub.action((options: Record<string, unknown>) => {
      record({
        command,
        configPath: typeof options.config === "string" ? options.config : DEFAULT_CONFIG_PATH,
        overrides: configFlagValues(CLIENT_CONFIG, options),
        detach: options.detach === true,
      });
    });
  }
  return program;
}

/**
 * Parses argv (without node and script) without printing or exiting: the command to run,
 * or help/version text (exit 0) or a usage error (exit 2) to print.
 */
export function parseCliArgs(argv: readonly string[]): CliParseResult<CliArgs> {
  // The seed's init scripts call `osad2-client -c FILE -d`: options without a command are run's.
  return parseCommandLine(buildProgram, withDefaultCommand(argv, "run"));
}

/** The command line the background process of `-d` runs with: the same without `-d`. */
export function withoutDetach(argv: readonly string[]): string[] {
  return withoutDetachFlag(argv, "run");
}
