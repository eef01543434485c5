import { describe, expect, it } from "vitest";
import { DEFAULT_BENCH_OPTIONS } from "../src/options.js";
import { compareWithRaw } from "../src/raw/compare.js";
import { raw, type RawResult } from "../src/raw/raw.js";

const quiet = (): void => undefined;

describe("tools/bench raw", () => {
  const small = {
    ...DEFAULT_BENCH_OPTIONS,
    clients: 30,
    clientsPerProcess: 10,
    connectRate: 0,
    downSeconds: 0.2,
    pingInterval: 0.1,
    steadySeconds: 0.3,
  };

  it.each(["single", "pair"] as const)(
    "%s: connects, fans out to, pings and recovers every bare-zeromq client (real processes)",
    async (topology) => {
      const result = await raw({ ...small, topology }, quiet);
      expect(result.topology).toBe(topology);
      expect(result.processes).toBe(3);
      expect(result.fanout.received).toBe(30);
      expect(result.steady.pongs).toBeGreaterThanOrEqual(30);
      expect(result.restart.ready).toBe(30);
      expect(result.restart.readyDelay?.count).toBe(30);
      expect(result.restart.eventLoopLagMaxMs).toBeGreaterThan(0);
      // One or two sockets per client: the connections are really there.
      expect(result.server.fds).toBeGreaterThanOrEqual(topology === "single" ? 30 : 60);
      if (topology === "single") expect(result.server.fds).toBeLessThan(60);
    },
    60_000,
  );

  it("divides osad2's figures by raw's, per database", () => {
    const baseline = {
      connectMs: 100,
      server: { rssPerClientKiB: 50 },
      steady: { serverCpuPercent: 1 },
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
