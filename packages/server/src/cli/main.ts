import { EXIT_OK, printParseExit, runCli } from "@osad2/service-kit";
import packageJson from "../../package.json" with { type: "json" };
import { DatabaseConfigError } from "../db/index.js";
import { parseCliArgs } from "./args.js";
import { detachCommand } from "./commands/detach.js";
import { doctorCommand, systemsCommand } from "./commands/doctor.js";
import { initCommand } from "./commands/init.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";

/**
 * Runs one command and resolves with its exit code: `run` and `init` 0 ok, 1 run-time
 * failure, 2 bad configuration or usage; `status` 0 healthy, 1 unhealthy, 3 not running;
 * `doctor` 0 pushable, 1 not pushable, 2 unknown system.
 */
async function dispatch(argv: readonly string[]): Promise<number> {
  const parsed = parseCliArgs(argv, packageJson.version);
  if (parsed.kind === "exit") return printParseExit(parsed);
  const invocation = parsed.command;
  switch (invocation.command) {
    case "run":
      return invocation.detach ? detachCommand(invocation, argv) : runCommand(invocation);
    case "init":
      process.stdout.write(`${JSON.stringify(await initCommand(invocation), null, 2)}\n`);
      return EXIT_OK;
    case "status": {
      const { report, exitCode } = await statusCommand(invocation);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return exitCode;
    }
    case "doctor": {
      const { output, exitCode } = await doctorCommand(invocation);
      process.stdout.write(output);
      return exitCode;
    }
    case "systems":
      process.stdout.write(await systemsCommand(invocation));
      return EXIT_OK;
  }
}

/** The osad2-server binary: parse, run one command, print one line on failure, exit with a code. */
export function main(argv: readonly string[]): Promise<void> {
  // A bad `database` URL is a configuration error like any other (exit 2).
  return runCli(dispatch, { program: "osad2-server", usageErrors: [DatabaseConfigError] }, argv);
}
