/**
 * Lets through at most `max` events per window so a scanner or a revoked client
 * retrying every second cannot flood the log; the next event that passes carries
 * how many were held back.
 */
export class LogRateLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private passed = 0;
  private suppressed = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether to log this event, and how many were suppressed since the last one logged. */
  take(): { readonly log: boolean; readonly suppressed: number } {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.passed = 0;
    }
    if (this.passed >= this.max) {
      this.suppressed += 1;
      return { log: false, suppressed: 0 };
    }
    this.passed += 1;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { log: true, suppressed };
  }
}

/** Lines with the same message let through per window, by default. */
export const DEFAULT_REPEATS_PER_WINDOW = 20;
/** Lines of all messages together let through per window, by default. */
export const DEFAULT_LINES_PER_WINDOW = 200;
/** The window of both limits, by default 10 s. */
export const DEFAULT_REPEAT_WINDOW_MS = 10_000;
/** Distinct messages tracked at once; the oldest is forgotten beyond. */
const MAX_TRACKED_MESSAGES = 1000;

/** Options of {@link RepeatedLineFilter}; every field has a default. */
export interface RepeatLimits {
  /** Default {@link DEFAULT_REPEATS_PER_WINDOW}. */
  readonly perMessage?: number;
  /** Default {@link DEFAULT_LINES_PER_WINDOW}. */
  readonly total?: number;
  /** Default {@link DEFAULT_REPEAT_WINDOW_MS}. */
  readonly windowMs?: number;
}

/** A message whose lines were held back: what {@link RepeatedLineFilter.pending} reports. */
export interface SuppressedLines {
  readonly message: string;
  readonly suppressed: number;
}

/**
 * Keeps a flood of one message (a million checkins, malformed frames) out of the log: each
 * message passes a few times per window, all messages together a bounded number; the next
 * line that passes, or {@link pending} at the end of a window, says how many were held back.
 */
export class RepeatedLineFilter {
  private readonly perMessage: Map<string, LogRateLimiter> = new Map();
  private readonly held: Map<string, number> = new Map();
  private readonly total: LogRateLimiter;
  private readonly limits: Required<RepeatLimits>;

  constructor(
    limits: RepeatLimits = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = {
      perMessage: limits.perMessage ?? DEFAULT_REPEATS_PER_WINDOW,
      total: limits.total ?? DEFAULT_LINES_PER_WINDOW,
      windowMs: limits.windowMs ?? DEFAULT_REPEAT_WINDOW_MS,
    };
    this.total = new LogRateLimiter(this.limits.total, this.limits.windowMs, now);
  }

  /** The window both limits count in (ms). */
  get windowMs(): number {
    return this.limits.windowMs;
  }

  /** Whether a line with this message may be written, and how many like it were held back. */
  admit(message: string): { readonly log: boolean; readonly suppressed: number } {
    let limiter = this.perMessage.get(message);
    if (limiter === undefined) {
      if (this.perMessage.size >= MAX_TRACKED_MESSAGES) this.forgetOldest();
      limiter = new LogRateLimiter(this.limits.perMessage, this.limits.windowMs, this.now);
      this.perMessage.set(message, limiter);
    }
    // Counted here, not by the limiters: a line the total refuses is held back too.
    const passes = limiter.take().log && this.total.take().log;
    if (!passes) {
      this.held.set(message, (this.held.get(message) ?? 0) + 1);
      return { log: false, suppressed: 0 };
    }
    const suppressed = this.held.get(message) ?? 0;
    this.held.delete(message);
    return { log: true, suppressed };
  }

  /** Messages with lines held back since they last passed; forgets them (they are reported now). */
  pending(): SuppressedLines[] {
    const out = [...this.held].map(([message, suppressed]) => ({ message, suppressed }));
    this.held.clear();
    return out;
  }

  private forgetOldest(): void {
    const oldest = this.perMessage.keys().next();
    if (oldest.done !== true) this.perMessage.delete(oldest.value);
  }
}
