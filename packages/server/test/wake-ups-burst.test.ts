import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "@osad2/service-kit";
import { openStore, type SpacewalkStore } from "../src/db/index.js";
import { Notifier } from "../src/dispatch/notifier.js";
import { WakeUps } from "../src/dispatch/wake-ups.js";
import { DEFAULT_FIRST_WINDOW_MS, DEFAULT_MAX_WINDOW_MS } from "../src/dispatch/wake-coalescer.js";
import { OnlineClients } from "../src/presence/online-clients.js";
import { createSystem, scheduleAction } from "../src/testing/index.js";
import { createTestDatabase, waitFor, type TestDatabase } from "@osad2/test-helpers";
import { FakeDispatchReport, FakePublisher } from "./fakes.js";

const HOUR_MS = 3_600_000;

/** A connection of its own to the test schema (autocommit: one transaction per statement). */
async function rawClient(db: TestDatabase): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(`SET search_path TO ${db.schema ?? "public"}`);
  return client;
}
const BURST = 3_000;

/**
 * The rounds the coalescer's schedule allows for wake-ups spread over `spanMs`: starts at 0, 20,
 * 60, 140 … ms (the window doubling up to 1 s), then one a second, and the one after the span.
 * The bound follows from how long the burst really took, so a loaded machine that stretches the
 * burst does not fail the test, while one round per row still would.
 */
function coalescedRounds(spanMs: number): number {
  let at = 0;
  let windowMs = DEFAULT_FIRST_WINDOW_MS;
  let rounds = 1;
  while (at <= spanMs) {
    at += windowMs;
    windowMs = Math.min(DEFAULT_MAX_WINDOW_MS, windowMs * 2);
    rounds += 1;
  }
  return rounds;
}

/** A notifier on a real store, woken by the store's wake-ups; the poll is an hour away. */
async function dispatcher(store: SpacewalkStore) {
  const publisher = new FakePublisher();
  const online = new OnlineClients();
  const notifier = new Notifier({
    renotifyMs: HOUR_MS,
    threshold: 100,
    pollIntervalMs: HOUR_MS,
    includePickedUp: false,
    helloGraceMs: 250,
    store,
    publisher,
    online,
    report: new FakeDispatchReport(),
    logger: silentLogger(),
  });
  let wakeUps = 0;
  const wokenAt: number[] = [];
  const target = {
    wake(): void {
      wakeUps += 1;
      wokenAt.push(Date.now());
      notifier.wake();
    },
  };
  const failures: unknown[] = [];
  const watcher = new WakeUps({
    source: store,
    target,
    report: { wakeUpsFailed: (error) => failures.push(error) },
    logger: silentLogger(),
  });
  notifier.start();
  watcher.start();
  // The subscription's first "listening" wakes a round too.
  await waitFor("wake-ups subscribed", () => wakeUps > 0);
  return {
    publisher,
    notifier,
    failures,
    get wakeUps() {
      return wakeUps;
    },
    /** When (ms) the database wake-up number `n` (0-based, counting from the first) arrived. */
    wokenAt(n: number): number {
      return wokenAt[n] ?? Number.NaN;
    },
    /** A client that is online and answered a ping. */
    reachable(name: string) {
      online.add(name);
      notifier.contact(name, "pong");
    },
    async stop() {
      await watcher.stop();
      await notifier.stop();
    },
  };
}

describe("database wake-ups on postgres (trigger installed)", () => {
  let db: TestDatabase | undefined;
  let store: SpacewalkStore | undefined;
  let stop: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await stop?.();
    await store?.close();
    await db?.drop();
    stop = store = db = undefined;
  });

  it("a burst of 3,000 single-row updates costs the coalescer's rounds (the window doubling, then one a second), not one per row; a lone schedule is announced by NOTIFY", async () => {
    const database = await createTestDatabase("postgres");
    db = database;
    store = await openStore(database.url, { schema: database.schema });
    expect(await store.prepare({ notifyTrigger: true })).toMatchObject({ notifyTrigger: true });
    const { system } = await createSystem(store, { name: "watched" });
    await store.registerPushClient(system.id, { name: "c-watched", sharedKey: "k".repeat(40) });
    // A mass action to 3,000 other systems; rhn_check will complete it row by row.
    await database.query(`INSERT INTO rhnserver (id, org_id, digital_server_id, os, release, name, secret, server_arch_id)
      SELECT 1100000000 + g, 1, 'ID-' || (1100000000 + g), 'os', '1', 'm' || g, 'secret', 1
        FROM generate_series(1, ${BURST}) g`);
    const mass = await scheduleAction(store, {
      serverIds: Array.from({ length: BURST }, (_, i) => 1100000001 + i),
    });
    const d = await dispatcher(store);
    stop = () => d.stop();
    d.reachable("c-watched");

    await scheduleAction(store, { serverIds: [system.id] });
    await waitFor("checkin woken by NOTIFY (the poll is an hour away)", () =>
      d.publisher.checkins.includes("c-watched"),
    );

    const roundsBefore = d.notifier.cycles;
    const wakeUpsBefore = d.wakeUps;
    // 3,000 transactions of one UPDATE each, sent in one simple-protocol message so the burst
    // is as dense as the database makes it (each COMMIT sends its NOTIFY).
    const burst = Array.from(
      { length: BURST },
      (_, i) =>
        `BEGIN; UPDATE rhnserveraction SET status = 2 WHERE server_id = ${1100000001 + i} AND action_id = ${mass}; COMMIT;`,
    ).join("\n");
    const writer = await rawClient(database);
    try {
      await writer.query(burst);
    } finally {
      await writer.end();
    }
    // Scheduled after the burst's last update: announced once the burst's rounds are done.
    const checkins = d.publisher.checkins.length;
    await scheduleAction(store, { serverIds: [system.id] });
    await waitFor(
      "the checkin scheduled after the burst",
      () => d.publisher.checkins.length > checkins,
    );
    const rounds = d.notifier.cycles - roundsBefore;
    expect(d.wakeUps - wakeUpsBefore).toBeGreaterThanOrEqual(BURST);
    const spanMs = d.wokenAt(wakeUpsBefore + BURST - 1) - d.wokenAt(wakeUpsBefore);
    // +1: the round of the action scheduled after the burst; +2: a loaded event loop may see a
    // gap in the NOTIFYs wider than the first windows (20, 40 ms), which restarts the doubling.
    expect(rounds).toBeLessThanOrEqual(coalescedRounds(spanMs) + 3);
    expect(rounds).toBeLessThan(BURST / 100);
    expect(d.failures).toEqual([]);
  });
});
