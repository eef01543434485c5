import packageJson from "../../package.json" with { type: "json" };
import { DatabaseConfigError } from "../db/index.js";
import { ConfigError, ConfigFileError } from "../errors.js";
import { parseCliArgs } from "./args.js";
import { initCommand } from "./commands/init.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";

/** Exit codes of `run` and `init` (`status` uses 0/1/3, see STATUS_EXIT). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Runs one command; resolves with its exit code. Errors of the configuration are usage errors. */
async function dispatch(argv: readonly string[]): Promise<number> {
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
      return EXIT.ok;
    case "status": {
      const { report, exitCode } = await statusCommand(invocation);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return exitCode;
    }
  }
}

/** The osad2-server binary: parse, run one command, print one line on failure, exit with a code. */
export function main(argv: readonly string[]): void {
  dispatch(argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const usage =
        error instanceof ConfigError ||
        error instanceof ConfigFileError ||
        error instanceof DatabaseConfigError;
      process.stderr.write(
        `osad2-server: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(usage ? EXIT.usage : EXIT.failure);
    },
  );
}
