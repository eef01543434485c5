/** Options of {@link backoffDelay}; every field has a default. */
export interface BackoffOptions {
  /** Delay after the first failure. Default {@link BACKOFF_DEFAULTS}.minMs (500 ms). */
  readonly minMs?: number;
  /** The doubling stops here (jitter may add to it). Default {@link BACKOFF_DEFAULTS}.maxMs (30 s). */
  readonly maxMs?: number;
  /**
   * Up to this share of the delay is added at random, so a fleet that failed together does
   * not retry in step: 0.5 → delay × [1, 1.5). Default 0.
   */
  readonly jitter?: number;
  /** Source of randomness in [0, 1) (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
}

/** The defaults of {@link backoffDelay}: 500 ms doubling to 30 s, no jitter. */
export const BACKOFF_DEFAULTS = { minMs: 500, maxMs: 30_000, jitter: 0 } as const;

/**
 * The one back-off of osad2: after `failures` consecutive failures (counting from 1) wait
 * min, 2·min, 4·min … capped at max, plus up to `jitter` of that at random; 0 for no
 * failure. With min = max it is a fixed interval with jitter.
 */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  if (failures <= 0) return 0;
  const minMs = options.minMs ?? BACKOFF_DEFAULTS.minMs;
  const maxMs = Math.max(minMs, options.maxMs ?? BACKOFF_DEFAULTS.maxMs);
  const jitter = Math.max(0, options.jitter ?? BACKOFF_DEFAULTS.jitter);
  // The exponent is clamped so 2 ** n never overflows to Infinity on long outages.
  const base = Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30));
  const random = jitter === 0 ? 0 : (options.random ?? Math.random)();
  return Math.round(base * (1 + jitter * random));
}
