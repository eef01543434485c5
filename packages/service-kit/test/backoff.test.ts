import { describe, expect, it } from "vitest";
import { BACKOFF_DEFAULTS, backoffDelay } from "../src/index.js";

describe("backoffDelay", () => {
  it("doubles from min to max, 0 for no failure", () => {
    expect(BACKOFF_DEFAULTS).toEqual({ minMs: 500, maxMs: 30_000, jitter: 0 });
    expect([0, 1, 2, 3, 4, 7, 100, 10_000].map((n) => backoffDelay(n))).toEqual([
      0, 500, 1_000, 2_000, 4_000, 30_000, 30_000, 30_000,
    ]);
    expect(backoffDelay(3, { minMs: 1_000, maxMs: 60_000 })).toBe(4_000);
  });

  it("adds up to `jitter` of the delay at random, also at the cap", () => {
    const options = { minMs: 1_000, maxMs: 8_000, jitter: 0.25 };
    expect(backoffDelay(1, { ...options, random: () => 0 })).toBe(1_000);
    expect(backoffDelay(1, { ...options, random: () => 0.999 })).toBe(1_250);
    expect(backoffDelay(10, { ...options, random: () => 0.5 })).toBe(9_000);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(2, options);
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(2_500);
    }
  });

  it("is a fixed interval with jitter when min = max", () => {
    const options = { minMs: 20_000, maxMs: 20_000, jitter: 0.5, random: () => 0.5 };
    expect([1, 2, 5].map((n) => backoffDelay(n, options))).toEqual([25_000, 25_000, 25_000]);
  });
});
