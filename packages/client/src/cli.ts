#!/usr/bin/env node
// The osad2-client binary: parse, run one command, print one line on failure, exit with a code.
import { parseCliArgs } from "./cli-args.js";
import { registerCommand } from "./commands/register.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";
import { ConfigError, KeyConfigError, describeError } from "./errors.js";

/** Exit codes: 0 ok, 1 runtime failure (server unreachable, refused, no state file), 2 bad configuration or usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

// `run` exits explicitly once stopped; one-shot commands end when their output is written.
let exitWhenDone = false;

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCliArgs(argv);
  if ("exitCode" in parsed) return parsed.exitCode;
  const { args } = parsed;
  switch (args.command) {
    case "run":
      exitWhenDone = true;
      return runCommand(args);
    case "register": {
      const reply = await registerCommand(args, (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      return EXIT_OK;
    }
    case "status":
      process.stdout.write(`${JSON.stringify(await statusCommand(args), null, 2)}\n`);
      return EXIT_OK;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // The service's sockets and watchers are closed by now; do not wait for stragglers.
    if (exitWhenDone) process.exit(code);
  },
  (error: unknown) => {
    const config = error instanceof ConfigError || error instanceof KeyConfigError;
    process.stderr.write(`osad2-client: ${describeError(error)}\n`);
    process.exitCode = config ? EXIT_CONFIG : EXIT_FAILURE;
  },
);
