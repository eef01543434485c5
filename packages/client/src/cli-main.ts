// The osad2-client binary's body (cli.ts loads it once the V8 flags are set): parse, run one
// command, print one line on failure, exit with a code.
import { EXIT_OK, printParseExit, runCli } from "@osad2/service-kit";
import { parseCliArgs } from "./cli-args.js";
import { KeyConfigError } from "./errors.js";

/**
 * Exit codes (service-kit's convention): 0 ok, 1 runtime failure (server unreachable,
 * refused), 2 bad configuration, key files or usage; `status` 0 connected, 1 running but not
 * connected, 3 not running, 4 state file unreadable.
 */
async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (parsed.kind === "exit") return printParseExit(parsed);
  const args = parsed.command;
  switch (args.command) {
    // Each command loads only its own modules: `status` needs neither ZeroMQ nor XML-RPC, and
    // the service does not carry the other commands.
    case "run":
      return args.detach
        ? (await import("./commands/detach.js")).detachCommand(args, argv)
        : (await import("./commands/run.js")).runCommand(args);
    case "register": {
      const { registerCommand } = await import("./commands/register.js");
      const reply = await registerCommand(args, (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      return EXIT_OK;
    }
    case "status": {
      const { statusCommand } = await import("./commands/status.js");
      const outcome = await statusCommand(args);
      if ("problem" in outcome) process.stderr.write(`osad2-client: ${outcome.problem}\n`);
      else process.stdout.write(`${JSON.stringify(outcome.report, null, 2)}\n`);
      return outcome.exitCode;
    }
  }
}

/** Runs the command line of this process; the service's sockets are closed when it resolves. */
export function runClientCli(): void {
  // The service's sockets and watchers are closed by the time main resolves: exit, do not wait.
  void runCli(main, { program: "osad2-client", usageErrors: [KeyConfigError] });
}
