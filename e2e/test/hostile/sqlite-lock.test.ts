// Another process holds the standalone SQLite database's write lock for 8 s. The landed build
// waited in SQLite's busy_timeout on the event loop: /healthz timed out past 8 s and pings
// left gaps of 10 s at a 2 s interval. Now pings keep their interval (±1 s), every /healthz
// answers within 1 s (503, the database degraded while the lock is held), and nothing is
// lost: a client that came online during the lock is online after it, and an action that
// fell due during the lock is run.
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

const PING_INTERVAL_S = 2;
const HOLD_S = 8;

let d: Deployment | undefined;
let holder: ChildProcess | undefined;
afterEach(async () => {
  holder?.kill("SIGKILL");
  holder = undefined;
  await d?.dispose();
  d = undefined;
});

/** python3's sqlite3 takes the write lock (BEGIN IMMEDIATE plus a write) and keeps it for HOLD_S. */
async function holdWriteLock(file: string): Promise<{ released: Promise<number> }> {
  const script = [
    "import sqlite3, sys, time",
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)",
    "c.execute('BEGIN IMMEDIATE')",
    "c.execute('UPDATE rhnpushclient SET name = name')",
    "print('locked', flush=True)",
    `time.sleep(${HOLD_S})`,
    "c.execute('COMMIT')",
    "print('released', flush=True)",
  ].join("\n");
  const child = spawn("/usr/bin/python3", ["-c", script, file], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  holder = child;
  let released = (): void => undefined;
  const releasedAt = new Promise<number>((resolve) => (released = () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (data: Buffer) => {
      if (data.toString().includes("locked")) resolve();
      if (data.toString().includes("released")) released();
    });
    child.on("exit", (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return { released: releasedAt };
}

function pingTimes(lines: readonly string[]): number[] {
  return lines
    .filter((line) => line.includes('"msg":"ping"'))
    .map((line) => Number((JSON.parse(line) as { time: number }).time));
}

describe("a SQLite database locked by another process", () => {
  it("keeps pings on time and /healthz answering (degraded), and loses nothing", async () => {
    const dep = (d = await Deployment.create({
      database: "sqlite",
      pingInterval: PING_INTERVAL_S,
    }));
    await dep.init();
    await dep.addSystem("web01");
    await dep.addSystem("web02");
    await dep.startServer();
    const client = dep.startClient("web01");
    await dep.waitOnline("web01");
    dep.emulateSpacewalk();
    // Falls due while the lock is held.
    await dep.schedule(["web01"], { earliest: new Date(Date.now() + 3_000) });

    const lockedAt = Date.now();
    const { released } = await holdWriteLock(dep.databaseUrl.slice("sqlite:".length));
    dep.startClient("web02"); // its online write has to wait for the lock
    const answers: { ms: number; status: number; state: string }[] = [];
    let done = false;
    void released.then(() => (done = true));
    while (!done) {
      const started = Date.now();
      const res = await fetch(`http://127.0.0.1:${dep.ports.metrics}/healthz`, {
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json()) as { db: { state: string; error?: string } };
      answers.push({ ms: Date.now() - started, status: res.status, state: body.db.state });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const releasedAt = await released;

    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1_000);
    expect(answers.some((a) => a.status === 503 && a.state === "degraded")).toBe(true);
    const during = pingTimes(client.lines).filter((t) => t >= lockedAt && t <= releasedAt);
    expect(during.length).toBeGreaterThanOrEqual(HOLD_S / PING_INTERVAL_S - 1);
    const gaps = during.slice(1).map((t, i) => t - (during[i] ?? t));
    expect(Math.max(...gaps)).toBeLessThanOrEqual((PING_INTERVAL_S + 1) * 1000);

    await dep.waitOnline("web02", 30_000);
    await waitFor(
      "web01's run of the action due during the lock",
      async () => (await dep.runs()).some((run) => run.label === "web01"),
      { timeoutMs: 30_000 },
    );
    await waitFor(
      "/healthz 200 after the lock",
      async () => (await fetch(`http://127.0.0.1:${dep.ports.metrics}/healthz`)).status === 200,
    );
  });
});
