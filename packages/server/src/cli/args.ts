import {
  addConfigOptions,
  configFlagValues,
  parseCommandLine,
  withDefaultCommand,
  withoutDetachFlag,
  type CliParseResult,
  type RecordCommand,
} from "@osad2/service-kit";
import { Command } from "commander";
import { DEFAULT_CONFIG_PATH, SERVER_CONFIG } from "../config/schema.js";

/** The commands of `osad2-server`. */
export type CliCommand = "run" | "init" | "status" | "doctor" | "systems";

/** A parsed command line. */
export interface CliInvocation {
  readonly command: CliCommand;
  /** The config file to read. */
  readonly configPath: string;
  /** True when --config was given (then a missing file is an error). */
  readonly configRequired: boolean;
  /** Raw values of config flags, by INI key (`--publisher-port 1` → `publisher_port: "1"`). */
  readonly flags: Readonly<Record<string, string>>;
  /** init only: install the PostgreSQL NOTIFY trigger (default true; `--no-notify-trigger` opts out). */
  readonly notifyTrigger: boolean;
  /** run only: `-d`, start in the background as the seed's init scripts expect. */
  readonly detach: boolean;
  /** doctor only: the system (server id, profile name, push client name or client key name). */
  readonly system?: string;
  /** doctor and systems: print JSON instead of text. */
  readonly json: boolean;
}

const COMMANDS: Record<CliCommand, string> = {
  run: "run the server in the foreground (systemd: Type=simple)",
  init: "create the standalone database schema and the server keys when missing",
  status: "print the server's state as JSON",
  doctor:
    "tell whether the server can push to SYSTEM now, and if not the first broken link and its fix (exit 0 pushable, 1 not, 2 unknown system)",
  systems:
    "list the systems this server manages: server id, profile, client name, key, state, since, last seen, address, version",
};

/** Builds the commander program; `--help` lists every config key as a flag. */
export function buildProgram(version: string, record: RecordCommand<CliInvocation>): Command {
  const program = new Command("osad2-server")
    .description(
      "osad2 server: tells Spacewalk systems over CURVE-secured ZeroMQ to check in when actions are due",
    )
    .version(version)
    .showHelpAfterError();
  for (const [name, description] of Object.entries(COMMANDS) as [CliCommand, string][]) {
    const command = program
      .command(name)
      .description(description)
      .option("-c, --config <file>", `config file (INI, [main]); default ${DEFAULT_CONFIG_PATH}`)
      .option("--db <url>", "database URL (same as --database)");
    addConfigOptions(command, SERVER_CONFIG);
    if (name === "run") {
      command.option(
        "-d, --detach",
        "start in the background (for SysV init scripts; needs pidfile and log_file); systemd runs it without -d",
      );
    }
    if (name === "init") {
      // --notify-trigger was the opt-in before the trigger became the default; still accepted.
      command
        .option("--notify-trigger", "install the PostgreSQL NOTIFY trigger (the default)")
        .option(
          "--no-notify-trigger",
          "do not install the PostgreSQL NOTIFY trigger on rhnServerAction (then the poll finds due work)",
        );
    }
    if (name === "doctor") {
      command.argument(
        "<system>",
        "server id, profile name (rhnServer.name), push client name or client key name (public_keys/NAME.key)",
      );
    }
    if (name === "doctor" || name === "systems") {
      command.option("--json", "print a JSON report instead of text");
    }
    command.action((...args: unknown[]) => {
      const system = name === "doctor" && typeof args[0] === "string" ? args[0] : undefined;
      record(toInvocation(name, command.opts(), system));
    });
  }
  return program;
}

/**
 * Parses `osad2-server <command> [flags]` without exiting or printing, so the CLI and the
 * argument tests share it. argv excludes the node binary and script (process.argv.slice(2)).
 */
export function parseCliArgs(
  argv: readonly string[],
  version: string,
): CliParseResult<CliInvocation> {
  // The seed's init scripts call `osad2-server -c FILE -d`: options without a command are run's.
  return parseCommandLine(
    (record) => buildProgram(version, record),
    withDefaultCommand(argv, "run"),
  );
}

/** The command line the background process of `-d` runs with: the same without `-d`. */
export function withoutDetach(argv: readonly string[]): string[] {
  return withoutDetachFlag(argv, "run");
}

function toInvocation(
  command: CliCommand,
  options: Record<string, unknown>,
  system?: string,
): CliInvocation {
  const flags = configFlagValues(SERVER_CONFIG, options);
  if (typeof options.db === "string") flags.database = options.db;
  const config = options.config;
  return {
    command,
    configPath: typeof config === "string" ? config : DEFAULT_CONFIG_PATH,
    configRequired: typeof config === "string",
    flags,
    notifyTrigger: options.notifyTrigger !== false,
    detach: options.detach === true,
    json: options.json === true,
    ...(system === undefined ? {} : { system }),
  };
}
