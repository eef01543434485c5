import {
  acquirePidfile,
  createLogger,
  describeError,
  detachedReady,
  EXIT_FAILURE,
  EXIT_OK,
  exitOnFatalErrors,
} from "@osad2/service-kit";
import { createServer } from "../../server.js";
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
  return new Promise<number>((resolve) => {
    const exit = (code: number): void => {
      log.flush();
      resolve(code);
    };
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal while draining: the operator wants out now.
        logger.warn({ signal }, "second signal while stopping; exiting at once");
        exit(EXIT_FAILURE);
        return;
      }
      stopping = true;
      logger.info({ signal }, "stopping (draining)");
      void server
        .stop()
        .then(releasePidfile)
        .then(
          () => exit(EXIT_OK),
          (error: unknown) => {
            logger.error({ err: error }, "error while stopping");
            exit(EXIT_FAILURE);
          },
        );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    process.on("SIGHUP", () => {
      log.reopen();
      // The file is read as strictly as at start: a bad edit keeps the running configuration.
      loadCliConfig(invocation)
        .then((next) => server.reload(next))
        .catch((error: unknown) =>
          logger.error(
            { err: error },
            `reload failed; keeping the running configuration: ${describeError(error)}`,
          ),
        );
    });
  });
}
