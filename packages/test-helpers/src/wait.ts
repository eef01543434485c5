/** Options of {@link waitFor}. */
export interface WaitOptions {
  /**
   * Give up after this long. Default 30,000 ms: a bound for a hung wait on a loaded two-core
   * machine, not a margin; a passing test never waits it out.
   */
  readonly timeoutMs?: number;
  /** Check again after this long. Default 50 ms. */
  readonly everyMs?: number;
}

/**
 * Polls `check` until it returns a truthy value (which it returns) or the deadline passes
 * (then throws naming `what` and the last error `check` threw). Tests wait for the event
 * this way, never for a fixed time.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 30_000, everyMs = 50 }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

/** Resolves after `ms`; for pacing loops, not for waiting on an outcome (use {@link waitFor}). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
