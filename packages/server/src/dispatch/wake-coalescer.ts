/** Default of {@link CoalescingSettings.firstWindowMs}. */
export const DEFAULT_FIRST_WINDOW_MS = 20;
/** Default of {@link CoalescingSettings.maxWindowMs}. */
export const DEFAULT_MAX_WINDOW_MS = 1_000;

/** How database wake-ups (NOTIFY, a SQLite commit) are coalesced into rounds. */
export interface CoalescingSettings {
  /** The gap after the first round of a burst. Default 20 ms. */
  readonly firstWindowMs: number;
  /** The widest gap between rounds while wake-ups keep coming. Default 1,000 ms. */
  readonly maxWindowMs: number;
}

/**
 * When the round a database wake-up asks for should start. After quiet, at once: one
 * scheduled action is announced without delay. A wake-up that follows the previous one
 * within the current window belongs to a burst (Spacewalk writing thousands of
 * rhnServerAction rows one by one): its round waits until the window after the last round's
 * start has passed, and each such round doubles the window up to the maximum. A gap in the
 * wake-ups longer than the window ends the burst.
 *
 * A 3,000-row burst over 2 s thus costs rounds at 0, 20, 60, 140, 300, 620, 1,260 and
 * 2,260 ms instead of one per row. Pure bookkeeping; the notifier owns the timers.
 */
export class WakeCoalescer {
  /** The window of the last coalesced round; 0 after quiet. */
  private windowMs = 0;
  private lastWakeAt = -Infinity;
  private lastRoundAt = -Infinity;
  /** A wake-up since the last round started asked for a coalesced round. */
  private coalescing = false;

  constructor(private settings: CoalescingSettings) {}

  configure(settings: CoalescingSettings): void {
    this.settings = settings;
  }

  /** A wake-up at `now` (ms): returns when (ms) the round it asks for should start, `now` or later. */
  wake(now: number): number {
    const quiet = now - this.lastWakeAt >= Math.max(this.windowMs, this.settings.firstWindowMs);
    this.lastWakeAt = now;
    if (quiet) {
      this.windowMs = 0;
      this.coalescing = false;
      return now;
    }
    this.coalescing = true;
    return Math.max(now, this.lastRoundAt + this.nextWindow());
  }

  /** A round starts at `now`, whatever caused it (a wake-up, the poll, a timer). */
  roundStarted(now: number): void {
    if (this.coalescing) {
      this.windowMs = this.nextWindow();
      this.coalescing = false;
    }
    this.lastRoundAt = now;
  }

  private nextWindow(): number {
    const { firstWindowMs, maxWindowMs } = this.settings;
    return this.windowMs === 0 ? firstWindowMs : Math.min(maxWindowMs, this.windowMs * 2);
  }
}
