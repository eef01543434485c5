import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type Logger } from "pino";

/** Mode of a log file this package creates (owner writes, group reads; never world-readable). */
export const LOG_FILE_MODE = 0o640;
/** Mode of log directories this package creates. */
export const LOG_DIR_MODE = 0o750;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Program name, the `name` field of every line: `osad2-server`. */
  readonly name: string;
  /** JSON-lines log file, appended; empty or undefined = {@link fallbackFd}. */
  readonly file?: string;
  /** Debug level instead of info. Default false. */
  readonly debug?: boolean;
  /** Where lines go without a file: 1 = stdout (services), 2 = stderr (one-shot commands). Default 1. */
  readonly fallbackFd?: 1 | 2;
  /**
   * Buffer writes to the file (faster under load; call flush() before exit). Default false:
   * every line is written when logged.
   */
  readonly buffered?: boolean;
}

/** A pino logger plus what a service needs around it. */
export interface ServiceLogger {
  readonly logger: Logger;
  /** Reopens the log file after logrotate moved it (SIGHUP); no-op without a file. */
  reopen(): void;
  /** Writes out anything buffered (before exit). */
  flush(): void;
}

/**
 * Creates the file (and missing parent directories) with fixed modes, so the umask of
 * whoever started the service cannot make the log world-readable. An existing file keeps
 * the mode its admin gave it.
 */
function ensureLogFile(path: string): void {
  const madeDir = mkdirSync(dirname(path), { recursive: true, mode: LOG_DIR_MODE });
  if (madeDir !== undefined) chmodSync(dirname(path), LOG_DIR_MODE);
  try {
    const fd = openSync(path, "wx", LOG_FILE_MODE);
    closeSync(fd);
    chmodSync(path, LOG_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/** Builds a program's JSON-lines logger (pino). */
export function createLogger(options: LoggerOptions): ServiceLogger {
  const file = options.file ?? "";
  if (file !== "") ensureLogFile(file);
  const destination = pino.destination(
    file === ""
      ? { dest: options.fallbackFd ?? 1, sync: true }
      : { dest: file, append: true, sync: options.buffered !== true, mode: LOG_FILE_MODE },
  );
  const logger = pino(
    {
      name: options.name,
      level: options.debug === true ? "debug" : "info",
      base: { pid: process.pid },
    },
    destination,
  );
  return {
    logger,
    reopen: () => {
      if (file === "") return;
      ensureLogFile(file);
      destination.reopen();
    },
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // Nothing buffered yet (sonic-boom refuses flushSync before it opened the file).
      }
    },
  };
}

/** A logger that discards everything: the default of library classes used on their own. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export type { Logger };
