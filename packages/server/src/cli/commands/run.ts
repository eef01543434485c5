import type { CliInvocation } from "../args.js";
import { createLogger } from "../../logger.js";
import { acquirePidfile } from "../pidfile.js";
import { createServer } from "../../server.js";
import { loadCliConfig } from "./load-config.js";

/**
 * `osad2-server run`: runs in the foreground until SIGTERM/SIGINT (drain, exit 0); SIGHUP
 * re-reads the config file and the key store and reopens the log file. Resolves with the exit code.
 */
export async function runCommand(invocation: CliInvocation): Promise<number> {
  const { config, unknownKeys } = await loadCliConfig(invocation);
  const log = createLogger({ file: config.logFile, debug: config.debug });
  const logger = log.logger;
  if (unknownKeys.length > 0) {
    logger.warn({ keys: unknownKeys, file: invocation.configPath }, "ignoring unknown config keys");
  }
  const releasePidfile =
    config.pidfile === "" ? async () => undefined : await acquirePidfile(config.pidfile);
  const server = createServer(config, { logger });
  try {
    await server.start();
  } catch (error) {
    await releasePidfile();
    log.flush();
    throw error;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal while draining: the operator wants out now.
        logger.warn({ signal }, "second signal while stopping; exiting at once");
        log.flush();
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, "stopping (draining)");
      void server
        .stop()
        .then(releasePidfile)
        .then(
          () => resolve(0),
          (error: unknown) => {
            logger.error({ err: error }, "error while stopping");
            resolve(1);
          },
        )
        .finally(() => log.flush());
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    process.on("SIGHUP", () => {
      log.reopen();
      loadCliConfig(invocation)
        .then(({ config: next }) => server.reload(next))
        .catch((error: unknown) =>
          logger.error({ err: error }, "reload failed; keeping the running configuration"),
        );
    });
  });
}
