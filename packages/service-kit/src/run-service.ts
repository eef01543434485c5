import { EXIT_FAILURE, EXIT_OK } from "./cli.js";
import { detachedReady } from "./detach.js";
import { exitOnFatalErrors } from "./fatal.js";
import { createLogger, type Logger, type ServiceLogger } from "./logger.js";
import { acquirePidfile, type ReleasePidfile } from "./pidfile.js";

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

/** What a `run` command starts: stopped by {@link runUntilSignalled}, told about SIGHUP. */
export interface RunnableService extends StoppableService {
  start(): Promise<unknown>;
  /** SIGHUP, after the log file was reopened. Default: nothing more. */
  hangup?(): void;
}

/** Options of {@link runService}. */
export interface RunServiceOptions {
  /** The logger's `name` and what the pidfile check looks for: `osad2-server`. */
  readonly program: string;
  /** Empty = stdout. */
  readonly logFile: string;
  readonly debug: boolean;
  /** Empty = no pidfile. */
  readonly pidfile: string;
  /** Builds the service once the logger exists. */
  create(logger: Logger): RunnableService;
  /** Logged at the first SIGTERM/SIGINT. Default "stopping". */
  readonly stoppingMessage?: string;
}

/**
 * A service's `run` command after its config has been checked: opens the log (written
 * asynchronously, flushed before every exit) and makes fatal errors exit through it, takes the
 * pidfile, starts the service (releasing the pidfile again if that fails, then rethrowing),
 * tells a waiting `-d` parent it is up, and runs it until signalled. Resolves with the exit code.
 */
export async function runService(options: RunServiceOptions): Promise<number> {
  const { program } = options;
  const log = createLogger({ name: program, file: options.logFile, debug: options.debug });
  exitOnFatalErrors(log, program);
  const logger = log.logger;
  const releasePidfile =
    options.pidfile === ""
      ? async () => undefined
      : await acquirePidfile(options.pidfile, { program });
  const service = options.create(logger);
  try {
    await service.start();
  } catch (error) {
    await releasePidfile();
    log.flush();
    throw error;
  }
  // Started with -d: the waiting parent may exit 0 now (a no-op otherwise).
  detachedReady();
  return runUntilSignalled({
    service,
    logger,
    log,
    releasePidfile,
    stoppingMessage: options.stoppingMessage,
    onHangup: hasHangup(service) ? service : undefined,
  });
}

function hasHangup(service: RunnableService): service is RunnableService & HangupHandler {
  return service.hangup !== undefined;
}
