import type { Logger, ServiceLogger } from "./logger.js";
import type { ReleasePidfile } from "./pidfile.js";
import { EXIT_FAILURE, EXIT_OK } from "./cli.js";

/** What a `run` command keeps alive until signalled. */
export interface StoppableService {
  stop(): Promise<void>;
}

/** Told about each SIGHUP after the log file has been reopened (re-read config, keys). */
export interface HangupHandler {
  hangup(): void;
}

/** Options of {@link runUntilSignalled}. */
export interface RunUntilSignalledOptions {
  readonly service: StoppableService;
  readonly logger: Logger;
  /** Flushed before every exit; reopened on SIGHUP (logrotate). */
  readonly log: Pick<ServiceLogger, "flush" | "reopen">;
  readonly releasePidfile: ReleasePidfile;
  /** Logged at the first SIGTERM/SIGINT. Default "stopping". */
  readonly stoppingMessage?: string;
  readonly onHangup?: HangupHandler;
}

/**
 * The foreground loop of a started service: the first SIGTERM/SIGINT stops the service, then
 * releases the pidfile (exit 0, or 1 when stopping failed); a second one exits at once (1), the
 * operator wants out now. SIGHUP reopens the log file, then tells `onHangup`. Resolves with
 * the exit code after flushing the log.
 */
export function runUntilSignalled(options: RunUntilSignalledOptions): Promise<number> {
  const { service, logger, log, releasePidfile } = options;
  return new Promise<number>((resolve) => {
    const exit = (code: number): void => {
      log.flush();
      resolve(code);
    };
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, "second signal while stopping; exiting at once");
        exit(EXIT_FAILURE);
        return;
      }
      stopping = true;
      logger.info({ signal }, options.stoppingMessage ?? "stopping");
      void service
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
      options.onHangup?.hangup();
    });
  });
}
