import { describe, expect, it } from "vitest";
import { DEFAULT_BENCH_OPTIONS } from "../src/options.js";
import { compareWithRaw } from "../src/raw/compare.js";
import { raw, type RawResult } from "../src/raw/raw.js";

const quiet = (): void => undefined;

describe("tools/bench raw", () => {
  it("connects, fans out to and recovers every bare-zeromq client (real processes)", async () => {
    const result = await raw(
      {
        ...DEFAULT_BENCH_OPTIONS,
        clients: 30,
        clientsPerProcess: 10,
        connectRate: 0,
        downSeconds: 0.2,
      },
      quiet,
    );
    expect(result.processes).toBe(3);
    expect(result.fanout.received).toBe(30);
    expect(result.restart.ready).toBe(30);
    expect(result.restart.readyDelay?.count).toBe(30);
    // Two sockets per client, plus the server's own: the connections are really there.
    expect(result.server.fds).toBeGreaterThanOrEqual(60);
  }, 60_000);

  it("divides osad2's figures by raw's, per database", () => {
    const baseline = {
      connectMs: 100,
      server: { rssPerClientKiB: 50 },
      fanout: { allReceivedMs: 40 },
      restart: { allReadyMs: 1000 },
    } as unknown as RawResult;
    expect(
      compareWithRaw(
        "fanout",
        [{ database: "postgres", allCheckinsMs: 100, onlineMs: null }],
        baseline,
      ),
    ).toEqual([
      expect.objectContaining({
        figure: expect.stringContaining("checkin"),
        osad2: 100,
        raw: 40,
        ratio: 2.5,
      }),
      expect.objectContaining({
        figure: expect.stringContaining("online"),
        osad2: null,
        ratio: null,
      }),
    ]);
    expect(
      compareWithRaw(
        "footprint",
        [{ database: "sqlite", server: { rssPerClientKiB: 61 } }],
        baseline,
      )[0]?.ratio,
    ).toBe(1.22);
  });
});
