import { describe, expect, it } from "vitest";
import { distribution, percentile } from "../src/stats.js";

describe("distribution", () => {
  it("takes nearest-rank percentiles of the sorted sample", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(distribution(values)).toEqual({
      count: 100,
      min: 1,
      p50: 50,
      p90: 90,
      p99: 99,
      max: 100,
      mean: 50.5,
    });
  });

  it("is undefined for an empty sample; one value is every percentile", () => {
    expect(distribution([])).toBeUndefined();
    expect(percentile([], 50)).toBeNaN();
    expect(distribution([7.25])).toMatchObject({ min: 7.3, p50: 7.3, p99: 7.3, max: 7.3 });
  });
});
