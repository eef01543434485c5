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
