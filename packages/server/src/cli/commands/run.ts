import {
  acquirePidfile,
  createLogger,
  describeError,
  detachedReady,
  exitOnFatalErrors,
  runUntilSignalled,
  type HangupHandler,
  type Logger,
} from "@osad2/service-kit";
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
  // The file is written asynchronously (never blocking the loop); flushed before every exit.
  const log = createLogger({ name: PROGRAM, file: config.logFile, debug: config.debug });
  exitOnFatalErrors(log, PROGRAM);
  const logger = log.logger;
  const releasePidfile =
    config.pidfile === ""
      ? async () => undefined
      : await acquirePidfile(config.pidfile, { program: PROGRAM });
  const server = createServer(config, { logger });
  try {
    await server.start();
  } catch (error) {
    await releasePidfile();
    log.flush();
    throw error;
  }
  // Started with -d: the waiting parent may exit 0 now.
  detachedReady();
  return runUntilSignalled({
    service: server,
    logger,
    log,
    releasePidfile,
    stoppingMessage: "stopping (draining)",
    onHangup: new ConfigReload(invocation, server, logger),
  });
}

/** SIGHUP: re-reads the config file and the key store into the running server. */
class ConfigReload implements HangupHandler {
  constructor(
    private readonly invocation: CliInvocation,
    private readonly server: Pick<Osad2Server, "reload">,
    private readonly logger: Logger,
  ) {}

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
