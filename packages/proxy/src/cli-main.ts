// The osad2-proxy binary's body: parse, run one command, print one line on failure, exit with a code.
import { printParseExit, runCli } from "@osad2/service-kit";
import packageJson from "../package.json" with { type: "json" };
import { parseCliArgs } from "./cli-args.js";
import { CurveUnavailableError, ProxyKeyError } from "./errors.js";

/** Exit codes (service-kit's convention): 0 stopped cleanly, 1 run-time failure, 2 bad config, keys or usage. */
async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCliArgs(argv, packageJson.version);
  if (parsed.kind === "exit") return printParseExit(parsed);
  const { runCommand } = await import("./commands/run.js");
  return runCommand(parsed.command);
}

export function runProxyCli(): void {
  void runCli(main, {
    program: "osad2-proxy",
    usageErrors: [ProxyKeyError, CurveUnavailableError],
  });
}
