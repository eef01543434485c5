import { destination, pino, type Logger } from "pino";

/** A logger that drops everything: the default of library classes used on their own. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export interface LoggerOptions {
  /** Log file (JSON lines, appended); empty = the given fallback stream. */
  readonly logfile: string;
  /** debug_level > 0 logs at debug level, else info. */
  readonly debugLevel: number;
  /** Where logs go without a logfile: 1 = stdout (the service), 2 = stderr (one-shot commands). */
  readonly fallbackFd?: 1 | 2;
}

/** The service's logger: pino JSON lines, as the server writes them. */
export function createLogger(options: LoggerOptions): Logger {
  const stream =
    options.logfile === ""
      ? destination({ fd: options.fallbackFd ?? 1, sync: true })
      : destination({ dest: options.logfile, mkdir: true, append: true, sync: true });
  return pino({ name: "osad2-client", level: options.debugLevel > 0 ? "debug" : "info" }, stream);
}
