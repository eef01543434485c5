// Far from UTC, so a timestamp JavaScript reads as local time shows as hours off.
process.env.TZ = "Asia/Kathmandu";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  DATABASE_KINDS,
  waitFor,
  type TestDatabase,
} from "@osad2/test-helpers";
import {
  diagnosisStore,
  openStore,
  type SpacewalkStore,
  type StoreLogger,
} from "../src/db/index.js";
import { createSystem, scheduleAction } from "../src/testing/index.js";
import { useServerHarness } from "./core-fixtures.js";
import { recordingLogger } from "./fakes.js";

// SQLite has no time type: rows written by hand or by other tools hold SQLite's own text forms
// ('2026-12-02 23:00:00', '+02:00' offsets, no 'T'), which must compare as the instants they
// name against osad2's ISO text, not as text (' ' sorts before 'T'). PostgreSQL runs the same
// cases on timestamptz, where nothing changes.

const NOW = new Date("2026-12-02T05:00:00.000Z");
const CLIENT = "c0ffee0000000001";

interface Warning {
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

class RecordingLogger implements StoreLogger {
  readonly warnings: Warning[] = [];
  warn(fields: object, message: string): void {
    this.warnings.push({ fields: fields as Record<string, unknown>, message });
  }
  debug(): void {}
  /** Warnings about unreadable timestamps. */
  unreadable(): Warning[] {
    return this.warnings.filter((w) => w.fields.value !== undefined);
  }
}

describe.each(DATABASE_KINDS)("timestamps compare as instants (%s)", (kind) => {
  let db: TestDatabase;
  let store: SpacewalkStore;
  let serverId: number;
  const logger = new RecordingLogger();
  /** A zone-less literal means UTC on SQLite; on PostgreSQL it is said outright. */
  const utc = (text: string) => (kind === "postgres" ? `${text}+00` : text);
  const p = (n: number) => (kind === "postgres" ? `$${n}` : "?");

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url, { schema: db.schema, logger });
    await store.prepare();
    const { system } = await createSystem(store, { name: "tz" });
    serverId = system.id;
    await store.registerPushClient(serverId, { name: CLIENT, sharedKey: "k".repeat(40) });
    await store.markOnline(CLIENT, NOW);
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  beforeEach(async () => {
    await db.query("DELETE FROM rhnserveraction");
    await db.query("DELETE FROM rhnaction");
    logger.warnings.length = 0;
  });

  /** A queued action whose earliest_action holds exactly this text, as another tool wrote it. */
  async function actionAt(text: string, created?: string): Promise<number> {
    const id = await scheduleAction(store, { serverIds: [serverId], earliest: NOW });
    await db.query(`UPDATE rhnaction SET earliest_action = ${p(1)} WHERE id = ${p(2)}`, [text, id]);
    if (created !== undefined) {
      await db.query(`UPDATE rhnaction SET created = ${p(1)} WHERE id = ${p(2)}`, [created, id]);
    }
    return id;
  }

  const due = async () =>
    (await store.dueActions(NOW, { includePickedUp: false })).map((a) => ({
      id: a.actionId,
      at: a.earliestAction.toISOString(),
    }));

  it("an action later today in SQLite's own format is not due, and is the next wake-up", async () => {
    await actionAt(utc("2026-12-02 23:00:00"));
    expect(await due()).toEqual([]);
    expect((await store.nextEarliestAction(NOW))?.toISOString()).toBe("2026-12-02T23:00:00.000Z");
  });

  it("an action earlier today in SQLite's own format is due, as the instant it names", async () => {
    const id = await actionAt(utc("2026-12-02 04:00:00"));
    expect(await due()).toEqual([{ id, at: "2026-12-02T04:00:00.000Z" }]);
    expect(await store.nextEarliestAction(NOW)).toBeNull();
  });

  it("'+00:00' and '+02:00' offsets name their instants", async () => {
    const suffixed = await actionAt("2026-12-02 04:59:59+00:00");
    const offset = await actionAt("2026-12-02T06:30:00+02:00"); // 04:30Z: due
    await actionAt("2026-12-02T07:30:00+02:00"); // 05:30Z: not yet
    await actionAt("2026-12-02 23:00:00+00:00");
    expect(await due()).toEqual([
      { id: offset, at: "2026-12-02T04:30:00.000Z" },
      { id: suffixed, at: "2026-12-02T04:59:59.000Z" },
    ]);
    expect((await store.nextEarliestAction(NOW))?.toISOString()).toBe("2026-12-02T05:30:00.000Z");
  });

  it("orders due actions and picks the next wake-up by instant, not by text", async () => {
    const spaced = await actionAt(utc("2026-12-02 04:00:00"));
    const iso = await actionAt("2026-12-02T03:30:00.000Z");
    await actionAt("2026-12-02T07:00:00-03:00"); // 10:00Z
    await actionAt("2026-12-02T08:00:00.000Z");
    expect((await due()).map((a) => a.id)).toEqual([iso, spaced]);
    expect((await store.nextEarliestAction(NOW))?.toISOString()).toBe("2026-12-02T08:00:00.000Z");
  });

  it("reads rhnAction.created written without a zone as UTC (checkin latency)", async () => {
    await actionAt(utc("2026-12-02 04:00:00"), utc("2026-12-02T03:00:00"));
    const [action] = await store.dueActions(NOW, { includePickedUp: false });
    expect(action?.created.toISOString()).toBe("2026-12-02T03:00:00.000Z");
  });

  it("a UI-ping deadline later today in SQLite's format has not expired; one earlier has", async () => {
    await db.query(
      `UPDATE rhnpushclient SET last_ping_time = ${p(1)}, next_action_time = ${p(2)} WHERE name = ${p(3)}`,
      [utc("2026-12-02 04:00:00"), utc("2026-12-02 23:00:00"), CLIENT],
    );
    expect(await store.expiredPingDeadlines(NOW)).toEqual([]);
    await db.query(`UPDATE rhnpushclient SET next_action_time = ${p(1)} WHERE name = ${p(2)}`, [
      "2026-12-02T06:59:00+02:00",
      CLIENT,
    ]);
    expect(await store.expiredPingDeadlines(NOW)).toEqual([CLIENT]);
    const client = await store.findClient(CLIENT);
    expect(client?.nextActionTime?.toISOString()).toBe("2026-12-02T04:59:00.000Z");
    expect(client?.lastPingTime?.toISOString()).toBe("2026-12-02T04:00:00.000Z");
    await store.markOnline(CLIENT, NOW);
  });

  it("osad2's own ISO text still works (scheduled through the store)", async () => {
    const past = await scheduleAction(store, {
      serverIds: [serverId],
      earliest: new Date(NOW.getTime() - 1),
    });
    await scheduleAction(store, { serverIds: [serverId], earliest: new Date(NOW.getTime() + 1) });
    expect(await due()).toEqual([{ id: past, at: "2026-12-02T04:59:59.999Z" }]);
    expect((await store.nextEarliestAction(NOW))?.toISOString()).toBe("2026-12-02T05:00:00.001Z");
    expect(logger.warnings).toEqual([]);
  });
});

// PostgreSQL refuses such values on insert; SQLite stores any text.
describe("timestamps SQLite cannot read (sqlite)", () => {
  let db: TestDatabase;
  let store: SpacewalkStore;
  let serverId: number;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    db = await createTestDatabase("sqlite");
    store = await openStore(db.url, { logger });
    await store.prepare();
    const { system } = await createSystem(store, { name: "bad" });
    serverId = system.id;
    await store.registerPushClient(serverId, { name: CLIENT, sharedKey: "k".repeat(40) });
    await store.markOnline(CLIENT, NOW);
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  beforeEach(async () => {
    await db.query("DELETE FROM rhnserveraction");
    await db.query("DELETE FROM rhnaction");
    logger.warnings.length = 0;
  });

  it("an unreadable earliest_action is not due, not a wake-up, and is reported once", async () => {
    const bad = await scheduleAction(store, { serverIds: [serverId], earliest: NOW });
    await db.query("UPDATE rhnaction SET earliest_action = ? WHERE id = ?", [
      "02/12/2026 23:00",
      bad,
    ]);
    const good = await scheduleAction(store, {
      serverIds: [serverId],
      earliest: new Date(NOW.getTime() - 60_000),
    });
    for (let round = 0; round < 3; round++) {
      expect(
        (await store.dueActions(NOW, { includePickedUp: true })).map((a) => a.actionId),
      ).toEqual([good]);
      expect(await store.nextEarliestAction(NOW)).toBeNull();
    }
    expect(logger.unreadable()).toEqual([
      {
        fields: {
          table: "rhnAction",
          column: "earliest_action",
          row: { id: bad },
          value: "02/12/2026 23:00",
        },
        message: expect.stringMatching(/rhnAction\.earliest_action.*02\/12\/2026 23:00.*not due/),
      },
    ]);
  });

  it("doctor reads earliest_action as the due query does: SQLite's form as its instant, unreadable as null", async () => {
    const tonight = await scheduleAction(store, { serverIds: [serverId], earliest: NOW });
    await db.query("UPDATE rhnaction SET earliest_action = ? WHERE id = ?", [
      "2026-12-02 23:00:00",
      tonight,
    ]);
    const bad = await scheduleAction(store, { serverIds: [serverId], earliest: NOW });
    await db.query("UPDATE rhnaction SET earliest_action = ? WHERE id = ?", ["tonight", bad]);
    const pending = await diagnosisStore(store).pendingActions(serverId);
    const byId = new Map(pending.map((a) => [a.actionId, a]));
    // Read as local time (Asia/Kathmandu) it would be 17:15Z; doctor used to throw on "tonight".
    expect(byId.get(tonight)?.earliestAction?.toISOString()).toBe("2026-12-02T23:00:00.000Z");
    expect(byId.get(bad)?.earliestAction).toBeNull();
    expect(byId.get(bad)?.earliestActionText).toBe("tonight");
  });

  it("an unreadable created does not block the action: reported, read as its earliest_action", async () => {
    const id = await scheduleAction(store, {
      serverIds: [serverId],
      earliest: new Date(NOW.getTime() - 60_000),
    });
    await db.query("UPDATE rhnaction SET created = 'yesterday' WHERE id = ?", [id]);
    const [action] = await store.dueActions(NOW, { includePickedUp: false });
    expect(action?.actionId).toBe(id);
    expect(action?.created.toISOString()).toBe("2026-12-02T04:59:00.000Z");
    expect(
      logger.unreadable().map((w) => [w.fields.table, w.fields.column, w.fields.value]),
    ).toEqual([["rhnAction", "created", "yesterday"]]);
  });

  it("an unreadable ping deadline never expires and is reported; findClient reads it as null", async () => {
    await db.query(
      "UPDATE rhnpushclient SET last_ping_time = ?, next_action_time = 'soon' WHERE name = ?",
      [NOW.toISOString(), CLIENT],
    );
    expect(await store.expiredPingDeadlines(NOW)).toEqual([]);
    expect(await store.expiredPingDeadlines(NOW)).toEqual([]);
    expect((await store.findClient(CLIENT))?.nextActionTime).toBeNull();
    expect(
      logger.unreadable().map((w) => [w.fields.table, w.fields.column, w.fields.value]),
    ).toEqual([["rhnPushClient", "next_action_time", "soon"]]);
    await store.markOnline(CLIENT, NOW);
  });
});

describe("the running server on SQLite text written by other tools", () => {
  const h = useServerHarness("sqlite");

  /** An action for one system whose earliest_action is this SQL expression, as sqlite3 would write it. */
  async function insertAction(serverId: number, earliest: string): Promise<void> {
    const [row] = await h.db.query(
      `INSERT INTO rhnaction (org_id, action_type, name, earliest_action, version, archived)
       VALUES (1, 3, 'sqlite3', ${earliest}, 2, 0) RETURNING id`,
    );
    await h.db.query(
      "INSERT INTO rhnserveraction (server_id, action_id, status, remaining_tries) VALUES (?, ?, 0, 10)",
      [serverId, Number(row?.id)],
    );
  }

  it("asks only the system whose action is due; names the unreadable row in its log", async () => {
    const { logger, lines } = recordingLogger();
    const s = await h.server({ actionPollInterval: 0.2 }, { logger });
    const waiting = await h.onlineClient(s);
    const due = await h.onlineClient(s);
    // Later today and unreadable: neither is due. Text comparison took both as due.
    await insertAction(waiting.serverId, "datetime('now', '+6 hours')");
    await insertAction(waiting.serverId, "'tonight 23:00'");
    await insertAction(due.serverId, "datetime('now', '-1 minute')");
    await waitFor("the due system's checkin", () => due.client.checkins >= 1);
    // The round that found it read the waiting system's rows too: the warning says so.
    await waitFor("the unreadable row reported", () =>
      lines.some((l) => l.column === "earliest_action" && l.value === "tonight 23:00"),
    );
    expect(waiting.client.checkins).toBe(0);
    expect(lines.filter((l) => l.value === "tonight 23:00")).toHaveLength(1);
  });
});
