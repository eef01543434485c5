import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type SpacewalkStore } from "../src/db/index.js";
import { watchSqliteCommits } from "../src/db/sqlite-wake-ups.js";
import { createSystem } from "../src/testing/index.js";
import { createTestDatabase, waitFor, type TestDatabase } from "@osad2/test-helpers";
import { useServerHarness } from "./core-fixtures.js";

const require = createRequire(import.meta.url);
const HOUR_MS = 3_600_000;

/**
 * Runs SQL against the file in another Node process (its own better-sqlite3 connection), as
 * Spacewalk tooling or a second osad2 process would; resolves when that process has exited.
 */
async function inAnotherProcess(file: string, statements: readonly string[]): Promise<void> {
  const script = `
    const db = new (require(${JSON.stringify(require.resolve("better-sqlite3"))}))(${JSON.stringify(file)}, { timeout: 5000 });
    for (const sql of ${JSON.stringify(statements)}) db.exec(sql);
    db.close();`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`writer process failed (${code}): ${stderr}`);
}

/** What Spacewalk's ActionManager writes for one action on one system. */
function scheduleSql(serverId: number): string[] {
  const now = new Date().toISOString();
  return [
    "BEGIN IMMEDIATE",
    `INSERT INTO rhnaction (org_id, action_type, name, earliest_action, version, archived) VALUES (1, 3, 'from another process', '${now}', 2, 0)`,
    `INSERT INTO rhnserveraction (server_id, action_id, status, remaining_tries) VALUES (${serverId}, last_insert_rowid(), 0, 10)`,
    "COMMIT",
  ];
}

describe("SQLite wake-ups: another process's commit", () => {
  let db: TestDatabase | undefined;
  let store: SpacewalkStore | undefined;
  const stops: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await store?.close();
    await db?.drop();
    store = db = undefined;
  });

  async function database() {
    db = await createTestDatabase("sqlite");
    store = await openStore(db.url);
    await store.prepare();
    const { system } = await createSystem(store, { name: "a" });
    return { file: db.url.slice("sqlite:".length), serverId: system.id, store };
  }

  it("wakes on each commit of another process, not on the connection's own, without a poll", async () => {
    const { file, serverId } = await database();
    // The watcher's own connection, as the store's: data_version changes only for others' commits.
    const Database = require("better-sqlite3") as typeof import("better-sqlite3");
    const own = new Database(file);
    stops.push(async () => void own.close());
    let looks = 0;
    let wakeUps = 0;
    const stop = await watchSqliteCommits({
      filename: file,
      dataVersion: async () => {
        looks += 1;
        return Number(own.pragma("data_version", { simple: true }));
      },
      handler: { wakeUp: () => (wakeUps += 1) },
      // No poll could find it within the test: only the file events can.
      fallbackPollMs: HOUR_MS,
    });
    stops.push(stop);
    // This connection's own write (the server's presence writes): looked at, no wake-up. (An
    // UPDATE that changes no value writes nothing, hence the '.'.)
    const looksBefore = looks;
    own.exec("UPDATE rhnserver SET name = name || '.'");
    await waitFor("a look after the connection's own write", () => looks > looksBefore);
    expect(wakeUps).toBe(0);

    await inAnotherProcess(file, scheduleSql(serverId));
    await waitFor("wake-up by the other process's commit", () => wakeUps >= 1);

    // After a checkpoint that truncates the -wal file, the next commit still wakes.
    const woken = wakeUps;
    await inAnotherProcess(file, ["PRAGMA wal_checkpoint(TRUNCATE)"]);
    await inAnotherProcess(file, scheduleSql(serverId));
    await waitFor("wake-up after the -wal file was truncated", () => wakeUps > woken);
  });

  it("the store subscribes a SQLite file's wake-ups (an in-memory database has none)", async () => {
    const { file, serverId, store: s } = await database();
    expect(await s.wakeUpMode()).toEqual({ kind: "watch", file });
    let wakeUps = 0;
    const events: string[] = [];
    stops.push(
      await s.subscribeWakeUps({
        wakeUp: () => (wakeUps += 1),
        connectionChanged: (event) => events.push(event.type),
      }),
    );
    expect(events).toEqual(["listening"]);
    await inAnotherProcess(file, scheduleSql(serverId));
    await waitFor("wake-up by the other process's commit", () => wakeUps >= 1);

    const memory = await openStore("sqlite::memory:");
    try {
      expect(await memory.wakeUpMode()).toEqual({ kind: "none" });
    } finally {
      await memory.close();
    }
  });
});

describe("the server on SQLite (the default database)", () => {
  const h = useServerHarness("sqlite");

  it("announces an action another process commits at once, without waiting for a poll", async () => {
    // The next poll is an hour away: a checkin within the test came by the commit's wake-up.
    const s = await h.server({ actionPollInterval: HOUR_MS / 1000, renotifyInterval: 3600 });
    const { serverId, client } = await h.onlineClient(s);
    const file = h.db.url.slice("sqlite:".length);
    for (let i = 0; i < 3; i++) {
      const before = client.checkins;
      await inAnotherProcess(file, scheduleSql(serverId));
      await waitFor("checkin woken by the other process's commit", () => client.checkins > before);
    }
  });
});
