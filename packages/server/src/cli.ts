#!/usr/bin/env node
// The osad2-server binary: parse, run one command, print one line on failure, exit with a code.
import packageJson from "../package.json" with { type: "json" };
import { parseCliArgs } from "./cli-args.js";
import { initCommand } from "./commands/init.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";
import { ConfigError, ConfigFileError } from "./errors.js";
import { DatabaseConfigError } from "./db/index.js";

/** Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage (status uses 0/1/3, see README). */
async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCliArgs(argv, packageJson.version);
  if (parsed.kind === "exit") {
    (parsed.code === 0 ? process.stdout : process.stderr).write(parsed.output);
    return parsed.code;
  }
  const { invocation } = parsed;
  switch (invocation.command) {
    case "run":
      return runCommand(invocation);
    case "init":
      process.stdout.write(`${JSON.stringify(await initCommand(invocation), null, 2)}\n`);
      return 0;
    case "status": {
      const { report, exitCode } = await statusCommand(invocation);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return exitCode;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage =
      error instanceof ConfigError ||
      error instanceof ConfigFileError ||
      error instanceof DatabaseConfigError;
    process.stderr.write(
      `osad2-server: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(usage ? 2 : 1);
  },
);
