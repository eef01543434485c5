import { describe, expect, it } from "vitest";
import {
  BenchUsageError,
  DEFAULT_BENCH_OPTIONS,
  descriptorProblem,
  parseBenchFlags,
  proxyProblem,
  splitEvenly,
  type BenchOptions,
} from "../src/options.js";

describe("parseBenchFlags", () => {
  it.each<[string[], Partial<BenchOptions>]>([
    [[], {}],
    [["--tries", "20"], { tries: 20 }],
    [["--clients", "200", "--db", "both"], { clients: 200, db: "both" }],
    [["--signal", "KILL", "--down", "0.5"], { signal: "SIGKILL", downSeconds: 0.5 }],
    [["--command", "none"], { command: [] }],
    [["--command", "/bin/true"], { command: ["/bin/true"] }],
    [["--echo", "--checkin-count", "0"], { echo: true, checkinCount: 0 }],
    [["--server-cli", "/tmp/cli.js"], { serverCli: "/tmp/cli.js" }],
    [["--no-raw", "--clients", "5"], { raw: false, clients: 5 }],
    [["--clients", "18000", "--proxies", "3"], { clients: 18_000, proxies: 3 }],
  ])("%j", (argv, changed) => {
    expect(parseBenchFlags(argv, DEFAULT_BENCH_OPTIONS)).toEqual({
      ...DEFAULT_BENCH_OPTIONS,
      ...changed,
    });
  });

  it.each([
    [["--tries", "0"], "--tries", /whole number >= 1/],
    [["--clients", "1.5"], "--clients", /whole number/],
    [["--db", "oracle"], "--db", /one of sqlite, postgres, both/],
    [["--ping-interval", "0"], "--ping-interval", /seconds >= 0.01/],
    [["--command", ""], "--command", /needs a program path/],
    [["--frobnicate", "1"], "--frobnicate", /not a known flag/],
    [["--tries"], "--tries", /got undefined/],
    [["--proxies", "0"], "--proxies", /whole number >= 1/],
  ])("refuses %j, naming the flag", (argv, flag, message) => {
    let caught: unknown;
    try {
      parseBenchFlags(argv, DEFAULT_BENCH_OPTIONS);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BenchUsageError);
    expect((caught as BenchUsageError).flag).toBe(flag);
    expect((caught as BenchUsageError).message).toMatch(message);
  });
});

describe("descriptorProblem", () => {
  it("lets 18,000 single-connection clients into 20,000 descriptors, not 18,000 pairs", () => {
    expect(descriptorProblem(18_000, "single", 20_000)).toBeUndefined();
    expect(descriptorProblem(18_000, "pair", 20_000)).toMatch(
      /needs about 36200 descriptors .*\(2 per client with the pair topology/,
    );
    expect(descriptorProblem(9_000, "pair", 20_000)).toBeUndefined();
  });
});

describe("splitEvenly", () => {
  const items = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  it.each([
    [18_000, 3, [6000, 6000, 6000]],
    [10, 3, [4, 3, 3]],
    [11, 3, [4, 4, 3]],
    [2, 3, [1, 1, 0]],
    [5, 1, [5]],
  ])("%i items in %i parts: sizes %j", (n, parts, sizes) => {
    const groups = splitEvenly(items(n), parts);
    expect(groups.map((g) => g.length)).toEqual(sizes);
    // Every item once, in order.
    expect(groups.flat()).toEqual(items(n));
  });

  it("refuses fewer than one part", () => {
    expect(() => splitEvenly(items(3), 0)).toThrow(RangeError);
  });
});

describe("proxyProblem", () => {
  it("fits 18,000 clients across 3 proxies in 20,000 descriptors each, not across 1", () => {
    expect(proxyProblem(18_000, 3, 20_000)).toBeUndefined();
    expect(proxyProblem(18_000, 1, 18_000)).toMatch(/needs about 18100 descriptors in each proxy/);
  });

  it("wants a client for every proxy", () => {
    expect(proxyProblem(2, 3, 20_000)).toMatch(/--proxies 3 is more than --clients 2/);
  });
});
