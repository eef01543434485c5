import { describeError, runService, type Logger, type RunnableService } from "@osad2/service-kit";
import { createServer, type Osad2Server } from "../../server.js";
import type { CliInvocation } from "../args.js";
import { assertStartable } from "../preflight.js";
import { loadCliConfig } from "./load-config.js";

/** The program name: the logger's `name` and what the pidfile check looks for. */
const PROGRAM = "osad2-server";

/**
 * `osad2-server run`: runs in the foreground until SIGTERM/SIGINT (drain, exit 0); SIGHUP
 * re-reads the config file and the key store and reopens the log file. Resolves with the exit code.
 */
export async function runCommand(invocation: CliInvocation): Promise<number> {
  const config = await loadCliConfig(invocation);
  // Before the log file, the pidfile and the database exist: a start that cannot work creates none.
  await assertStartable(config);
  return runService({
    program: PROGRAM,
    logFile: config.logFile,
    debug: config.debug,
    pidfile: config.pidfile,
    stoppingMessage: "stopping (draining)",
    create: (logger) => new ServerRun(invocation, createServer(config, { logger }), logger),
  });
}

/** The server under `run`: SIGHUP re-reads the config file and the key store into it. */
class ServerRun implements RunnableService {
  constructor(
    private readonly invocation: CliInvocation,
    private readonly server: Osad2Server,
    private readonly logger: Logger,
  ) {}

  start(): Promise<void> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  hangup(): void {
    // The file is read as strictly as at start: a bad edit keeps the running configuration.
    loadCliConfig(this.invocation)
      .then((next) => this.server.reload(next))
      .catch((error: unknown) =>
        this.logger.error(
          { err: error },
          `reload failed; keeping the running configuration: ${describeError(error)}`,
        ),
      );
  }
}
