import {
  addConfigOptions,
  configFlagValues,
  parseCommandLine,
  withDefaultCommand,
  type CliParseResult,
  type RecordCommand,
} from "@osad2/service-kit";
import { Command } from "commander";
import { CONFIG_SECTION, DEFAULT_CONFIG_PATH, PROXY_CONFIG } from "./config.js";

/** A parsed `osad2-proxy` command line. */
export interface ProxyInvocation {
  readonly command: "run";
  readonly configPath: string;
  /** True when --config was given (then a missing file is an error). */
  readonly configRequired: boolean;
  /** Raw values of config flags, by INI key. */
  readonly flags: Readonly<Record<string, string>>;
}

/** Builds the commander program; `--help` lists every config key as a flag. */
export function buildProgram(version: string, record: RecordCommand<ProxyInvocation>): Command {
  const program = new Command("osad2-proxy")
    .description(
      "osad2 proxy: carries the CURVE connections of osad2 clients to the osad2 server (or a parent proxy) over one link",
    )
    .version(version)
    .showHelpAfterError();
  const run = program
    .command("run")
    .description("run the proxy in the foreground (systemd: Type=simple)")
    .option(
      "-c, --config <file>",
      `config file (INI, [${CONFIG_SECTION}]); default ${DEFAULT_CONFIG_PATH}`,
    );
  addConfigOptions(run, PROXY_CONFIG);
  run.action(() => {
    const options = run.opts();
    const config = options.config;
    record({
      command: "run",
      configPath: typeof config === "string" ? config : DEFAULT_CONFIG_PATH,
      configRequired: typeof config === "string",
      flags: configFlagValues(PROXY_CONFIG, options),
    });
  });
  return program;
}

/** Parses `osad2-proxy <command> [flags]` (argv without node and the script). */
export function parseCliArgs(
  argv: readonly string[],
  version: string,
): CliParseResult<ProxyInvocation> {
  return parseCommandLine(
    (record) => buildProgram(version, record),
    withDefaultCommand(argv, "run"),
  );
}
