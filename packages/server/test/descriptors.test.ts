import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checkHealth } from "../src/telemetry/health.js";
import { DescriptorWatch, type ListeningControl } from "../src/telemetry/descriptors.js";
import { recordingLogger } from "./fakes.js";

class FakeListener implements ListeningControl {
  readonly calls: string[] = [];
  pauseListening(): void {
    this.calls.push("pause");
  }
  resumeListening(): void {
    this.calls.push("resume");
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("DescriptorWatch", () => {
  it("pauses at the limit, reports it, logs once a minute, and resumes when descriptors free up", async () => {
    let open: number | "exhausted" = 50;
    const listener = new FakeListener();
    const { logger, lines } = recordingLogger();
    const watch = new DescriptorWatch({
      listener,
      logger,
      count: async () => open,
      limit: async () => ({ soft: 200, hard: 200 }),
    });
    await watch.check();
    expect(watch.problem()).toBeUndefined();

    open = "exhausted";
    await watch.check();
    expect(listener.calls).toEqual(["pause"]);
    expect(watch.problem()).toMatch(/file descriptors exhausted: 200 open of the limit of 200/);
    const health = await checkHealth({
      running: true,
      store: { kind: "sqlite", healthCheck: async () => undefined },
      sockets: { state: { publisher: true, listener: true } },
      router: { status: { ok: true, restarts: 0 } },
      descriptors: watch,
    });
    expect(health.healthy).toBe(false);
    expect(health.descriptors.error).toMatch(/RLIMIT_NOFILE/);

    // Still exhausted for 30 s: no second line; past a minute: one more.
    for (let i = 0; i < 30; i++) {
      vi.advanceTimersByTime(1_000);
      await watch.check();
    }
    const warnings = () => lines.filter((l) => /exhausted/.test(String(l.msg)));
    expect(warnings()).toHaveLength(1);
    vi.advanceTimersByTime(31_000);
    await watch.check();
    expect(warnings()).toHaveLength(2);

    open = 170; // above 80 % of the limit: stays paused
    await watch.check();
    expect(listener.calls).toEqual(["pause"]);
    open = 40;
    await watch.check();
    expect(listener.calls).toEqual(["pause", "resume"]);
    expect(watch.problem()).toBeUndefined();
  });

  it("stays paused for the back-off even when descriptors free up at once", async () => {
    let open: number | "exhausted" = "exhausted";
    const listener = new FakeListener();
    const watch = new DescriptorWatch({
      listener,
      logger: recordingLogger().logger,
      count: async () => open,
      limit: async () => ({ soft: 200, hard: 200 }),
    });
    await watch.check();
    open = 40;
    await watch.check();
    expect(listener.calls).toEqual(["pause"]);
    vi.advanceTimersByTime(2_000);
    await watch.check();
    expect(listener.calls).toEqual(["pause", "resume"]);
  });

  it("counts seldom above half the limit (a count is dear there); a failed accept with EMFILE pauses at once", async () => {
    let open: number | "exhausted" = 150;
    let counts = 0;
    const listener = new FakeListener();
    const watch = new DescriptorWatch({
      listener,
      logger: recordingLogger().logger,
      count: async () => {
        counts += 1;
        return open;
      },
      limit: async () => ({ soft: 200, hard: 200 }),
    });
    watch.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(counts).toBe(1); // the first count, at the 1 s interval: 150 of 200 open
    await vi.advanceTimersByTimeAsync(9_000);
    expect(counts).toBe(1); // above half: the next count only 10 s later, not every 100 ms
    await vi.advanceTimersByTimeAsync(1_000);
    expect(counts).toBe(2);

    watch.acceptFailed("ECONNABORTED"); // a peer gone before accept: nothing to do with descriptors
    expect(listener.calls).toEqual([]);
    watch.acceptFailed("EMFILE");
    expect(listener.calls).toEqual(["pause"]);
    expect(watch.problem()).toMatch(/file descriptors exhausted/);
    // Paused: counted every 100 ms, and resumed after the back-off once descriptors are free.
    open = 20;
    await vi.advanceTimersByTimeAsync(2_100);
    expect(counts).toBeGreaterThan(10);
    expect(listener.calls).toEqual(["pause", "resume"]);
    watch.stop();
  });
});
