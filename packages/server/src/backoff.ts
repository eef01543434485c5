/** First retry after a failed database round. */
export const DEFAULT_RETRY_MIN_MS = 500;
/** Retries never wait longer than this. */
export const DEFAULT_RETRY_MAX_MS = 30_000;

/** Exponential back-off: min, 2·min, 4·min … capped at max; `failures` counts from 1. */
export function backoffDelay(
  failures: number,
  minMs: number = DEFAULT_RETRY_MIN_MS,
  maxMs: number = DEFAULT_RETRY_MAX_MS,
): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30));
}
