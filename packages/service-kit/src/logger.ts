import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import pino, { type LogFn, type Logger } from "pino";
import { LogFileSink, type LogDrops } from "./log-sink.js";
import { RepeatedLineFilter, type RepeatLimits } from "./log-rate-limiter.js";

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
   * Hold back repeated lines (a flood of one message) and say how many were held; see
   * RepeatedLineFilter for the defaults. Default: every line is written.
   */
  readonly repeatLimits?: RepeatLimits;
}

/** A pino logger plus what a service needs around it. */
export interface ServiceLogger {
  readonly logger: Logger;
  /** Reopens the log file after logrotate moved it (SIGHUP); no-op without a file. */
  reopen(): void;
  /** Writes out anything buffered (before exit; also done on process exit). */
  flush(): void;
  /** Lines the log file lost (buffer full, disk full); always 0 without a file. */
  readonly drops: LogDrops;
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

/**
 * Builds a program's JSON-lines logger (pino). A log file is written without ever blocking the
 * event loop or throwing: see LogFileSink (bounded buffer, lost lines counted in `drops`).
 */
export function createLogger(options: LoggerOptions): ServiceLogger {
  const file = options.file ?? "";
  const level = options.debug === true ? "debug" : "info";
  const filter =
    options.repeatLimits === undefined ? undefined : new RepeatedLineFilter(options.repeatLimits);
  // Set while the filter's own summary lines are written, which must not be filtered.
  const reporting = { now: false };
  const settings = {
    name: options.name,
    level,
    base: { pid: process.pid },
    ...(filter === undefined ? {} : { hooks: { logMethod: holdRepeats(filter, reporting) } }),
  };
  if (file === "") {
    const destination = pino.destination({ dest: options.fallbackFd ?? 1, sync: true });
    const logger = pino(settings, destination);
    if (filter !== undefined) reportHeldLines(logger, filter, reporting);
    return { logger, reopen: () => undefined, flush: () => undefined, drops: { droppedLines: 0 } };
  }
  ensureLogFile(file);
  const sink = new LogFileSink({
    open: () => {
      ensureLogFile(file);
      return openSync(file, "a", LOG_FILE_MODE);
    },
    lossLine: (dropped, cause) =>
      `${JSON.stringify({
        level: 40,
        time: Date.now(),
        pid: process.pid,
        name: options.name,
        dropped,
        cause,
        msg: `${dropped} log lines were lost while the log file could not be written`,
      })}\n`,
  });
  flushAtExit(sink);
  const logger = pino(settings, sink);
  if (filter !== undefined) reportHeldLines(logger, filter, reporting);
  return {
    logger,
    reopen: () => sink.reopen(),
    flush: () => sink.flushSync(),
    drops: sink,
  };
}

const openSinks = new Set<LogFileSink>();

/** Whatever ends the process, queued lines still reach the file (one listener for all sinks). */
function flushAtExit(sink: LogFileSink): void {
  if (openSinks.size === 0) process.on("exit", () => openSinks.forEach((s) => s.flushSync()));
  openSinks.add(sink);
}

/** pino's logMethod hook: a line passes the filter by its message; fatal lines always pass. */
function holdRepeats(filter: RepeatedLineFilter, reporting: { now: boolean }) {
  return function logMethod(
    this: Logger,
    args: Parameters<LogFn>,
    method: LogFn,
    level: number,
  ): void {
    const [first, second] = args;
    const message = typeof first === "string" ? first : typeof second === "string" ? second : "";
    if (level >= FATAL_LEVEL || reporting.now) {
      method.apply(this, args);
      return;
    }
    const { log, suppressed } = filter.admit(`${level} ${message}`);
    if (!log) return;
    if (suppressed === 0) method.apply(this, args);
    else if (typeof first === "object" && first !== null)
      method.apply(this, [{ ...first, suppressed }, ...args.slice(1)] as Parameters<LogFn>);
    else method.apply(this, [{ suppressed }, ...args] as Parameters<LogFn>);
  };
}

const FATAL_LEVEL = 60;

/** At the end of every window, one line per message that had lines held back. */
function reportHeldLines(
  logger: Logger,
  filter: RepeatedLineFilter,
  reporting: { now: boolean },
): void {
  const timer = setInterval(() => {
    reporting.now = true;
    try {
      for (const { message, suppressed } of filter.pending()) {
        const [, text = ""] = /^\d+ (.*)$/s.exec(message) ?? [];
        logger.warn({ suppressed, message: text }, `${suppressed} similar lines suppressed`);
      }
    } finally {
      reporting.now = false;
    }
  }, filter.windowMs);
  timer.unref();
}

/** A logger that discards everything: the default of library classes used on their own. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export type { Logger };
export type { LogDrops } from "./log-sink.js";

const NO_DROPS: LogDrops = { droppedLines: 0 };

/**
 * The drop count of the log file a logger (or any child of it) writes to, for a metric;
 * a logger writing elsewhere drops nothing.
 */
export function logDrops(logger: Logger): LogDrops {
  const stream: unknown = Reflect.get(logger, pino.symbols.streamSym);
  return stream instanceof LogFileSink ? stream : NO_DROPS;
}
