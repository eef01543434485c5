import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { promisify } from "node:util";
import { backoffDelay, errnoCode, type Logger } from "@osad2/service-kit";

const run = promisify(execFile);

/** How often the open descriptors are counted. */
export const DESCRIPTOR_CHECK_INTERVAL_MS = 1_000;
/** How often they are counted while listening is paused and just after it resumed (few are open then). */
export const DESCRIPTOR_CLOSE_INTERVAL_MS = 100;
/**
 * How often they are counted while more than half the limit is open. Counting lists
 * /proc/self/fd: ~1 ms of CPU per 1,000 descriptors (15 ms at 18,000 connections, 15 % of a
 * core at the old 100 ms). Exhaustion is found at once anyway, through the listening sockets'
 * failed accepts ({@link DescriptorWatch.acceptFailed}).
 */
export const DESCRIPTOR_BUSY_INTERVAL_MS = 10_000;
/** Exhausted when fewer than this many descriptors are left (libzmq's accept is failing by then). */
export const DESCRIPTOR_RESERVE = 8;
/** Listening resumes once the open descriptors are below this share of the limit. */
export const DESCRIPTOR_RESUME_SHARE = 0.8;
/** The "descriptors exhausted" warning is logged at most this often. */
export const DESCRIPTOR_LOG_INTERVAL_MS = 60_000;
/** Listening stays paused at least this long after an exhaustion, doubling on repeats up to a minute. */
const PAUSE_BACKOFF = { minMs: 2_000, maxMs: 60_000 } as const;

/** The process's RLIMIT_NOFILE. */
export interface DescriptorLimit {
  readonly soft: number;
  readonly hard: number;
}

/** RLIMIT_NOFILE from /proc/self/limits ("unlimited" as Infinity); undefined off Linux. */
export async function readDescriptorLimit(): Promise<DescriptorLimit | undefined> {
  const text = await fs.readFile("/proc/self/limits", "utf8").catch(() => undefined);
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text ?? "");
  if (match === null) return undefined;
  const value = (word: string | undefined) =>
    word === undefined || word === "unlimited" ? Infinity : Number(word);
  return { soft: value(match[1]), hard: value(match[2]) };
}

/**
 * Raises this process's soft RLIMIT_NOFILE to its hard limit. Node has no setrlimit, so this
 * runs util-linux's `prlimit --pid <pid>` (the unit's LimitNOFILE sets both in production).
 * Resolves to the limit in force afterwards; never throws (a missing prlimit is logged).
 */
export async function raiseDescriptorLimit(logger: Logger): Promise<DescriptorLimit | undefined> {
  const before = await readDescriptorLimit();
  if (before === undefined || before.soft >= before.hard) return before;
  const hard = Number.isFinite(before.hard) ? String(before.hard) : "unlimited";
  try {
    await run("prlimit", [`--pid=${process.pid}`, `--nofile=${hard}:${hard}`], {
      timeout: 5_000,
    });
  } catch (error) {
    logger.warn(
      { err: error, soft: before.soft, hard: before.hard },
      "cannot raise the open-file limit to its hard limit (prlimit from util-linux missing?); set LimitNOFILE in the unit or ulimit -n",
    );
    return before;
  }
  const after = await readDescriptorLimit();
  logger.info(
    { before: before.soft, soft: after?.soft, hard: after?.hard },
    "open-file limit raised",
  );
  return after;
}

/** Open descriptors of this process; "exhausted" when even listing them needs one too many. */
export async function countOpenDescriptors(): Promise<number | "exhausted" | undefined> {
  try {
    return (await fs.readdir("/proc/self/fd")).length;
  } catch (error) {
    const code = errnoCode(error);
    return code === "EMFILE" || code === "ENFILE" ? "exhausted" : undefined;
  }
}

/** What the watch stops while descriptors are exhausted: the listening ZeroMQ sockets. */
export interface ListeningControl {
  /** Stops accepting (libzmq retries a failing accept in a tight loop: 100 % CPU). */
  pauseListening(): void;
  /** Accepts again. */
  resumeListening(): void;
}

/** Options of {@link DescriptorWatch}; every field but `listener` and `logger` has a default. */
export interface DescriptorWatchOptions {
  readonly listener: ListeningControl;
  readonly logger: Logger;
  /** Default {@link DESCRIPTOR_CHECK_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Counts the open descriptors. Default {@link countOpenDescriptors}. */
  readonly count?: () => Promise<number | "exhausted" | undefined>;
  /** The limit. Default {@link readDescriptorLimit}. */
  readonly limit?: () => Promise<DescriptorLimit | undefined>;
}

/**
 * Watches the process's descriptors against RLIMIT_NOFILE. At the limit libzmq's accept
 * fails with EMFILE and is retried at once, forever: a full core, and every other descriptor
 * use (database, logs, /healthz) starves. So at the limit the watch pauses the listening
 * sockets (which also drops the connections they hold), keeps them paused for a while
 * (longer on repeats), reports the problem to /healthz and logs it once a minute; once
 * descriptors are below {@link DESCRIPTOR_RESUME_SHARE} of the limit it listens again.
 */
export class DescriptorWatch {
  private timer: NodeJS.Timeout | undefined;
  private current: string | undefined;
  private pausedUntil = 0;
  private pauses = 0;
  private lastPauseAt = 0;
  private lastLogAt = -Infinity;
  private lastResumeLogAt = -Infinity;
  private checking = false;
  private limit: DescriptorLimit | undefined;
  private running = false;
  private resumedAt = -Infinity;
  private lastOpen: number | undefined;

  constructor(private readonly options: DescriptorWatchOptions) {}

  /** Starts counting every interval. */
  start(): void {
    if (this.running) return;
    // Read now, while descriptors are left: at the limit the file cannot be opened.
    void (this.options.limit ?? readDescriptorLimit)().then((limit) => {
      this.limit ??= limit;
    });
    this.running = true;
    this.schedule();
  }

  /**
   * The next count: every interval; every {@link DESCRIPTOR_CLOSE_INTERVAL_MS} while paused
   * or just after resuming with few open; every {@link DESCRIPTOR_BUSY_INTERVAL_MS} while
   * more than half the limit is open, where a count is dear and a refill that starts libzmq
   * spinning again shows as a failed accept ({@link acceptFailed}) before any count sees it.
   */
  private schedule(): void {
    if (!this.running) return;
    const busy =
      this.lastOpen !== undefined &&
      this.limit !== undefined &&
      this.lastOpen >= this.limit.soft / 2;
    const interval =
      this.current !== undefined
        ? DESCRIPTOR_CLOSE_INTERVAL_MS
        : busy
          ? DESCRIPTOR_BUSY_INTERVAL_MS
          : Date.now() - this.resumedAt < 10_000
            ? DESCRIPTOR_CLOSE_INTERVAL_MS
            : (this.options.intervalMs ?? DESCRIPTOR_CHECK_INTERVAL_MS);
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, interval);
    this.timer.unref();
  }

  /** Stops counting. Idempotent. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * A listening socket failed to accept a connection (libzmq's accept:error, errno `code`).
   * EMFILE/ENFILE is the exhaustion itself: pause now, without counting (libzmq retries the
   * accept in a tight loop, and a count at 18,000 descriptors takes ~15 ms).
   */
  acceptFailed(code: string | undefined): void {
    if (!this.running || this.current !== undefined) return;
    if (code !== "EMFILE" && code !== "ENFILE") return;
    const limit = this.limit;
    if (limit === undefined || !Number.isFinite(limit.soft)) {
      void this.check();
      return;
    }
    this.exhausted("exhausted", limit.soft, Date.now());
    // Count again within a tenth of a second, to resume (a count in flight reschedules itself).
    if (!this.checking) {
      clearTimeout(this.timer);
      this.schedule();
    }
  }

  /** The problem /healthz reports, or undefined while descriptors are left. */
  problem(): string | undefined {
    return this.current;
  }

  /** One count and what follows from it (exposed for tests). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const [open, read] = await Promise.all([
        (this.options.count ?? countOpenDescriptors)(),
        (this.options.limit ?? readDescriptorLimit)(),
      ]);
      // At the limit even reading /proc/self/limits fails: the last limit read still holds.
      if (read !== undefined) this.limit = read;
      const limit = this.limit;
      if (open !== "exhausted") this.lastOpen = open;
      if (open === undefined || limit === undefined || !Number.isFinite(limit.soft)) return;
      const now = Date.now();
      if (this.current === undefined) {
        if (open === "exhausted" || open >= limit.soft - DESCRIPTOR_RESERVE) {
          this.exhausted(open, limit.soft, now);
        }
        return;
      }
      const low = Math.floor(limit.soft * DESCRIPTOR_RESUME_SHARE);
      if (open !== "exhausted" && open < low && now >= this.pausedUntil) {
        this.current = undefined;
        this.resumedAt = now;
        this.options.listener.resumeListening();
        if (now - this.lastResumeLogAt < DESCRIPTOR_LOG_INTERVAL_MS) return;
        this.lastResumeLogAt = now;
        this.options.logger.warn(
          { open, limit: limit.soft },
          "file descriptors available again: listening on the ZeroMQ ports resumed",
        );
      } else {
        this.log(open, limit.soft, now);
      }
    } finally {
      this.checking = false;
    }
  }

  private exhausted(open: number | "exhausted", limit: number, now: number): void {
    // Repeats within a few minutes pause longer; a quiet spell starts over.
    this.pauses = now - this.lastPauseAt > 5 * PAUSE_BACKOFF.maxMs ? 1 : this.pauses + 1;
    this.lastPauseAt = now;
    this.pausedUntil = now + backoffDelay(this.pauses, PAUSE_BACKOFF);
    const count = open === "exhausted" ? limit : open;
    this.current = `file descriptors exhausted: ${count} open of the limit of ${limit} (RLIMIT_NOFILE); listening on the ZeroMQ ports is paused until descriptors free up — raise LimitNOFILE in the unit (or ulimit -n)`;
    this.options.listener.pauseListening();
    this.log(open, limit, now);
  }

  private log(open: number | "exhausted", limit: number, now: number): void {
    if (now - this.lastLogAt < DESCRIPTOR_LOG_INTERVAL_MS) return;
    this.lastLogAt = now;
    this.options.logger.warn(
      { open: open === "exhausted" ? limit : open, limit, exhausted: "file descriptors" },
      this.current ?? "file descriptors exhausted",
    );
  }
}
