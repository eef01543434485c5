import { InvalidOptionError } from "./errors.js";

/** How long a re-issued system's old key stays allowed if the new one never connects: 7 days. */
export const DEFAULT_OVERLAP_MS = 7 * 24 * 3600 * 1000;

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Past this the deadline would not fit a Date for long, and nobody means it.
const MAX_OVERLAP_MS = 366 * 86_400_000;

/**
 * `--overlap`: `0` (revoke the old key at once) or a number with a unit, `s` `m` `h` `d` `w`
 * (`90m`, `12h`, `7d`). A bare number other than 0 is refused: 7 seconds and 7 days are both
 * plausible readings of `7`.
 * @throws {InvalidOptionError} option `overlap`.
 */
export function parseOverlap(text: string): number {
  const trimmed = text.trim();
  if (/^0+(\.0*)?$/.test(trimmed)) return 0;
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(trimmed);
  const amount = match?.[1];
  const unit = match?.[2];
  if (amount === undefined || unit === undefined) {
    throw new InvalidOptionError(
      "overlap",
      `${JSON.stringify(text)} is not a duration; use 0 (revoke the old key now) or a number with a unit: 30m, 12h, 7d, 2w`,
    );
  }
  const ms = Math.round(Number(amount) * (UNIT_MS[unit] ?? 0));
  return validateOverlapMs(ms);
}

/** A number of milliseconds ≥ 0 and at most a year. @throws {InvalidOptionError} */
export function validateOverlapMs(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_OVERLAP_MS) {
    throw new InvalidOptionError(
      "overlap",
      `${String(ms)} ms is not between 0 and a year (${MAX_OVERLAP_MS} ms)`,
    );
  }
  return ms;
}
