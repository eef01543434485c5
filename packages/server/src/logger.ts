import pino, { type Logger } from "pino";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** JSON log file; empty or undefined = stdout. */
  readonly file?: string;
  /** Debug level instead of info. Default false. */
  readonly debug?: boolean;
}

/** A pino logger plus what the CLI needs around it. */
export interface ServerLogger {
  readonly logger: Logger;
  /** Reopens the log file after logrotate moved it (SIGHUP); no-op for stdout. */
  reopen(): void;
  /** Writes out anything buffered (before exit). */
  flush(): void;
}

/** Builds the server's JSON-lines logger (pino). */
export function createLogger(options: LoggerOptions = {}): ServerLogger {
  const file = options.file ?? "";
  const destination = pino.destination(
    file === "" ? { dest: 1, sync: true } : { dest: file, sync: false, mkdir: true },
  );
  const logger = pino(
    {
      name: "osad2-server",
      level: options.debug === true ? "debug" : "info",
      base: { pid: process.pid },
    },
    destination,
  );
  return {
    logger,
    reopen: () => {
      if (file !== "") destination.reopen();
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

/** A logger that discards everything (library default when the caller passes none). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export type { Logger };
