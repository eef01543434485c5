import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Executor, type ExecutorOptions, type RunRecord } from "../src/index.js";
import { FAKE_RHN_CHECK, cleanupTempDirs, processGone, readRunLog, tempDir } from "./helpers.js";

const executors: Executor[] = [];

afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.drain(0)));
  await cleanupTempDirs();
});

interface Harness {
  executor: Executor;
  runs: RunRecord[];
  runlog: string;
  /** Resolves with all runs once `count` have finished; rejects after `ms`. */
  waitForRuns(count: number, ms?: number): Promise<RunRecord[]>;
}

async function harness(
  env: Record<string, string> = {},
  options: Partial<ExecutorOptions> = {},
): Promise<Harness> {
  const dir = await tempDir();
  const runlog = join(dir, "runs.log");
  const executor = new Executor({
    command: [FAKE_RHN_CHECK],
    env: { ...process.env, RUNLOG: runlog, ...env },
    retryDelayMs: 100,
    ...options,
  });
  executors.push(executor);
  const runs: RunRecord[] = [];
  executor.on("run", (r) => runs.push(r));
  const waitForRuns = (count: number, ms = 10_000): Promise<RunRecord[]> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${runs.length} of ${count} runs after ${ms} ms`)),
        ms,
      );
      const check = (): void => {
        if (runs.length >= count) {
          clearTimeout(timer);
          executor.off("run", check);
          resolve(runs);
        }
      };
      executor.on("run", check);
      check();
    });
  return { executor, runs, runlog, waitForRuns };
}

/** Lets timers of 0 ms and immediate follow-ups happen, so "nothing more runs" is observable. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

describe("Executor", () => {
  it("runs the command once per request and reports trigger, timing and exit status", async () => {
    const h = await harness();
    expect(h.executor.request("checkin")).toBe(true);
    const [run] = await h.waitForRuns(1);
    expect(run).toMatchObject({
      trigger: "checkin",
      attempt: 1,
      exitCode: 0,
      signal: null,
      timedOut: false,
      error: null,
    });
    expect(run?.durationMs).toBeGreaterThanOrEqual(0);
    expect(run?.startedAt).toBeLessThanOrEqual(Date.now());
    await settle();
    expect(h.executor.idle).toBe(true);
    expect(h.executor.lastRun).toEqual(run);
    const log = await readRunLog(h.runlog);
    expect(log.map((l) => l.kind)).toEqual(["start", "end"]);
  });

  it("a checkin during a run causes exactly one follow-up run, after the first ends", async () => {
    const h = await harness({ SLEEP: "0.4" });
    h.executor.request("start");
    expect(h.executor.running).toBe(true);
    h.executor.request("checkin");
    const runs = await h.waitForRuns(2);
    await settle();
    expect(h.executor.idle).toBe(true);
    expect(runs.map((r) => r.trigger)).toEqual(["start", "checkin"]);
    const log = await readRunLog(h.runlog);
    expect(log.map((l) => l.kind)).toEqual(["start", "end", "start", "end"]);
    // never two at once: the second start comes after the first end
    expect((log[2] as { atMs: number }).atMs).toBeGreaterThanOrEqual(
      (log[1] as { atMs: number }).atMs,
    );
  });

  it("a burst of 50 checkins makes at most 2 runs", async () => {
    const h = await harness({ SLEEP: "0.3" });
    for (let i = 0; i < 50; i++) h.executor.request("checkin");
    await h.waitForRuns(2);
    await settle();
    // another burst while idle waits for no one else
    expect(h.executor.idle).toBe(true);
    const log = await readRunLog(h.runlog);
    expect(log.filter((l) => l.kind === "start")).toHaveLength(2);
    expect(h.runs).toHaveLength(2);
  });

  it("requests during the random pre-run delay join the coming run", async () => {
    const h = await harness({}, { jitterMs: 300, random: () => 1 });
    const asked = Date.now();
    for (let i = 0; i < 10; i++) h.executor.request("checkin");
    expect(h.executor.running).toBe(false);
    const [run] = await h.waitForRuns(1);
    await settle();
    expect(h.executor.idle).toBe(true);
    expect(h.runs).toHaveLength(1);
    expect(run!.startedAt - asked).toBeGreaterThanOrEqual(290);
  });

  it("runs with umask 022 whatever the service's umask is, and restores it", async () => {
    const h = await harness();
    const previous = process.umask(0o077);
    try {
      h.executor.request("checkin");
      expect(process.umask(0o077)).toBe(0o077);
      await h.waitForRuns(1);
    } finally {
      process.umask(previous);
    }
    const [start] = await readRunLog(h.runlog);
    expect(start?.umask).toBe("0022");
  });

  it("adds -vvv when verbose (debug_level > 0), passing argv without a shell", async () => {
    const h = await harness({}, { command: [FAKE_RHN_CHECK, "--one arg", "$HOME"], verbose: true });
    h.executor.request("manual");
    await h.waitForRuns(1);
    const [start] = await readRunLog(h.runlog);
    expect(start?.args).toBe("--one arg $HOME -vvv");
  });

  it("on timeout kills the whole process group, grandchildren included, and does not retry", async () => {
    const h = await harness(
      { SLEEP: "60", GRANDCHILD: "1" },
      { timeoutMs: 400, killGraceMs: 2_000 },
    );
    h.executor.request("checkin");
    const [run] = await h.waitForRuns(1);
    expect(run).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM" });
    // Killed at the timeout, long before the script's own 60 s (the bound leaves room for load).
    expect(run!.durationMs).toBeLessThan(20_000);
    const [start] = await readRunLog(h.runlog);
    const grandchild = Number(await readFile(`${h.runlog}.grandchild`, "utf8"));
    expect(grandchild).toBeGreaterThan(0);
    expect(await processGone(start!.pid!)).toBe(true);
    expect(await processGone(grandchild)).toBe(true);
    await settle();
    expect(h.executor.idle).toBe(true);
  });

  it("retries a failed run exactly once after the back-off, with the stderr tail", async () => {
    const h = await harness({ EXIT: "7" }, { retryDelayMs: 200 });
    h.executor.request("checkin");
    const runs = await h.waitForRuns(2);
    await new Promise((r) => setTimeout(r, 400));
    expect(h.runs).toHaveLength(2);
    expect(runs.map((r) => [r.trigger, r.attempt, r.exitCode])).toEqual([
      ["checkin", 1, 7],
      ["retry", 2, 7],
    ]);
    expect(runs[0]!.stderrTail).toContain("boom: exiting 7");
    expect(runs[1]!.startedAt - (runs[0]!.startedAt + runs[0]!.durationMs)).toBeGreaterThanOrEqual(
      190,
    );
    expect(h.executor.idle).toBe(true);
  });

  it("a retry that succeeds ends the sequence", async () => {
    const h = await harness({ FAIL_FIRST: "1" });
    h.executor.request("checkin");
    const runs = await h.waitForRuns(2);
    expect(runs.map((r) => r.exitCode)).toEqual([3, 0]);
    expect(runs[0]!.stderrTail).toContain("first run fails on purpose");
    await settle();
    expect(h.executor.idle).toBe(true);
  });

  it("a command that cannot start is reported as a failed run, not thrown", async () => {
    const h = await harness({}, { command: ["/nonexistent/rhn_check"], retryDelayMs: 50 });
    h.executor.request("checkin");
    const runs = await h.waitForRuns(2);
    expect(runs[0]).toMatchObject({ exitCode: null, timedOut: false });
    expect(runs[0]!.error).toContain("ENOENT");
    expect(runs[1]!.attempt).toBe(2);
  });

  it("drain lets a running rhn_check finish, then refuses requests", async () => {
    const h = await harness({ SLEEP: "0.4" });
    h.executor.request("checkin");
    h.executor.request("checkin"); // queued follow-up is dropped by drain
    await h.executor.drain(5_000);
    expect(h.runs).toHaveLength(1);
    expect(h.runs[0]!.exitCode).toBe(0);
    expect(h.executor.request("checkin")).toBe(false);
    await settle();
    expect(await readRunLog(h.runlog)).toHaveLength(2);
  });

  it("drain kills a run that outlasts the grace period", async () => {
    const h = await harness({ SLEEP: "60" }, { killGraceMs: 1_000 });
    h.executor.request("checkin");
    const started = Date.now();
    await h.executor.drain(200);
    // Returns after the grace, not after the script's 60 s (the bound leaves room for load).
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(h.runs[0]).toMatchObject({ signal: "SIGTERM", exitCode: null });
  });
});
