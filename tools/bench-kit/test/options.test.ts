import { describe, expect, it } from "vitest";
import {
  BenchUsageError,
  DEFAULT_BENCH_OPTIONS,
  descriptorProblem,
  parseBenchFlags,
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
