import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DatabaseConfigError,
  DatabaseSchemaError,
  DatabaseUnavailableError,
  openStore,
  type SpacewalkStore,
} from "../src/db/index.js";
import { internalsOf } from "../src/db/internal.js";
import { createSystem, scheduleAction, setServerActionStatus } from "../src/testing/index.js";
import {
  createTestDatabase,
  DATABASE_KINDS,
  waitFor,
  type TestDatabase,
} from "@osad2/test-helpers";

const SECOND = 1000;

describe.each(DATABASE_KINDS)("store on %s", (kind) => {
  let db: TestDatabase;
  let store: SpacewalkStore;

  beforeEach(async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url, { schema: db.schema });
    await store.prepare();
  });

  afterEach(async () => {
    await store.close();
    await db.drop();
  });

  /** A system with a registered push client (offline), like after register_osad. */
  async function systemWithClient(name: string, clientName: string) {
    const { system } = await createSystem(store, { name });
    await store.registerPushClient(system.id, { name: clientName, sharedKey: "k".repeat(40) });
    return system;
  }

  describe("schema", () => {
    it("creates the Spacewalk subset once, with Spacewalk's reference data", async () => {
      const again = await store.prepare();
      expect(again).toEqual({ schema: "created", applied: [], notifyTrigger: false });
      const states = await db.query("SELECT id, label FROM rhnpushclientstate ORDER BY id");
      expect(states.map((s) => [Number(s.id), s.label])).toEqual([
        [1, "online"],
        [2, "offline"],
      ]);
      const statuses = await db.query("SELECT id, name FROM rhnactionstatus ORDER BY id");
      expect(statuses.map((s) => [Number(s.id), s.name])).toEqual([
        [0, "Queued"],
        [1, "Picked Up"],
        [2, "Completed"],
        [3, "Failed"],
      ]);
      const types = await db.query(
        "SELECT id, label FROM rhnactiontype WHERE label IN ('reboot.reboot', 'packages.update', 'script.run') ORDER BY id",
      );
      expect(types.map((t) => [Number(t.id), t.label])).toEqual([
        [3, "packages.update"],
        [9, "reboot.reboot"],
        [30, "script.run"],
      ]);
      for (const table of [
        "rhnserver",
        "rhnaction",
        "rhnserveraction",
        "rhnpushclient",
        "rhnpushdispatcher",
      ]) {
        expect(await db.count(table)).toBe(0);
      }
    });

    it("uses Spacewalk's column types and ids", async () => {
      const { system } = await createSystem(store, { name: "typed" });
      expect(system.id).toBe(1000010000);
      expect(system.digitalServerId).toBe("ID-1000010000");
      if (kind === "postgres") {
        const columns = await db.query(
          `SELECT table_name, column_name, data_type, character_maximum_length AS len
             FROM information_schema.columns WHERE table_schema = current_schema()
              AND table_name = 'rhnpushclient' ORDER BY ordinal_position`,
        );
        const byName = Object.fromEntries(
          columns.map((c) => [c.column_name, [c.data_type, c.len]]),
        );
        expect(byName).toMatchObject({
          id: ["numeric", null],
          name: ["character varying", 64],
          server_id: ["numeric", null],
          jabber_id: ["character varying", 128],
          shared_key: ["character varying", 64],
          state_id: ["numeric", null],
          next_action_time: ["timestamp with time zone", null],
          last_message_time: ["timestamp with time zone", null],
          last_ping_time: ["timestamp with time zone", null],
          created: ["timestamp with time zone", null],
          modified: ["timestamp with time zone", null],
        });
        const sequences = await db.query(
          "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema() AND sequence_name LIKE 'rhn%' ORDER BY 1",
        );
        expect(sequences.map((s) => s.sequence_name)).toEqual([
          "rhn_event_id_seq",
          "rhn_pclient_id_seq",
          "rhn_pclient_state_id_seq",
          "rhn_pushdispatch_id_seq",
          "rhn_server_id_seq",
        ]);
      } else {
        const columns = await db.query("SELECT name, type FROM pragma_table_info('rhnpushclient')");
        expect(
          Object.fromEntries(columns.map((c) => [c.name, String(c.type).toLowerCase()])),
        ).toMatchObject({
          id: "integer",
          name: "varchar(64)",
          next_action_time: "text",
        });
      }
    });

    it("keeps rhnPushClient.modified current with a trigger", async () => {
      await systemWithClient("trig", "c-trig");
      await db.query(
        kind === "postgres"
          ? "UPDATE rhnpushclient SET modified = now() - interval '1 day'"
          : "UPDATE rhnpushclient SET modified = '2000-01-01T00:00:00.000Z'",
      );
      await store.markOnline("c-trig", new Date());
      const [after] = await db.query("SELECT modified FROM rhnpushclient");
      const modified =
        after?.modified instanceof Date ? after.modified : new Date(String(after?.modified));
      expect(modified.getTime()).toBeGreaterThan(Date.now() - 60 * SECOND);
    });

    it("uses an existing Spacewalk schema as it is and never alters it", async () => {
      const other = await createTestDatabase(kind);
      try {
        // Spacewalk's own DDL (abridged to the columns osad2 reads), with no osad2 bookkeeping.
        const ts = kind === "postgres" ? "timestamptz" : "text";
        for (const sql of [
          "CREATE TABLE rhnServer (id numeric PRIMARY KEY, org_id numeric NOT NULL, digital_server_id varchar(64) NOT NULL, name varchar(128), secret varchar(64) NOT NULL, os varchar(64) NOT NULL, release varchar(64) NOT NULL, server_arch_id numeric NOT NULL)",
          "CREATE TABLE rhnActionType (id numeric PRIMARY KEY, label varchar(48) NOT NULL, name varchar(100) NOT NULL, trigger_snapshot char(1) NOT NULL, unlocked_only char(1) NOT NULL)",
          `CREATE TABLE rhnAction (id numeric PRIMARY KEY, org_id numeric NOT NULL, action_type numeric NOT NULL, name varchar(128), earliest_action ${ts} NOT NULL, prerequisite numeric)`,
          "CREATE TABLE rhnServerAction (server_id numeric NOT NULL, action_id numeric NOT NULL, status numeric NOT NULL)",
          "CREATE TABLE rhnPushClientState (id numeric PRIMARY KEY, label varchar(64) NOT NULL, name varchar(256) NOT NULL)",
          `CREATE TABLE rhnPushClient (id numeric PRIMARY KEY, name varchar(64) NOT NULL, server_id numeric NOT NULL, jabber_id varchar(128), shared_key varchar(64) NOT NULL, state_id numeric NOT NULL, next_action_time ${ts}, last_message_time ${ts}, last_ping_time ${ts})`,
          "INSERT INTO rhnPushClientState VALUES (11, 'online', 'online')",
          "INSERT INTO rhnPushClientState VALUES (12, 'offline', 'offline')",
          "INSERT INTO rhnPushClient (id, name, server_id, shared_key, state_id) VALUES (5, 'spacewalkclient1', 1000010001, 'k', 12)",
        ]) {
          await other.query(sql);
        }
        const tablesBefore = await other.query(
          kind === "postgres"
            ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
            : "SELECT name FROM sqlite_master ORDER BY 1",
        );
        const existing = await openStore(other.url, { schema: other.schema });
        try {
          expect(await existing.prepare()).toEqual({
            schema: "existing",
            applied: [],
            notifyTrigger: false,
          });
          // The NOTIFY trigger is the one opt-in change; it adds no table.
          expect(await existing.prepare({ notifyTrigger: true })).toEqual({
            schema: "existing",
            applied: [],
            notifyTrigger: kind === "postgres",
          });
          // The state ids come from the table, not from assumptions: 11/12 here.
          expect(await existing.markOnline("spacewalkclient1", new Date())).toBe(true);
          expect((await existing.findClient("spacewalkclient1"))?.state).toBe("online");
          const [row] = await other.query("SELECT state_id FROM rhnpushclient");
          expect(Number(row?.state_id)).toBe(11);
        } finally {
          await existing.close();
        }
        const tablesAfter = await other.query(
          kind === "postgres"
            ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
            : "SELECT name FROM sqlite_master ORDER BY 1",
        );
        expect(tablesAfter).toEqual(tablesBefore);
      } finally {
        await other.drop();
      }
    });

    it("refuses a partial Spacewalk schema, naming the missing tables", async () => {
      const other = await createTestDatabase(kind);
      try {
        await other.query("CREATE TABLE rhnServer (id numeric PRIMARY KEY, secret varchar(64))");
        const partial = await openStore(other.url, { schema: other.schema });
        try {
          const error = await partial.prepare().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(DatabaseSchemaError);
          expect((error as DatabaseSchemaError).missingTables).toContain("rhnpushclient");
          expect((error as Error).message).toMatch(/never alters/);
        } finally {
          await partial.close();
        }
      } finally {
        await other.drop();
      }
    });
  });

  describe("due actions (osa-dispatcher rules)", () => {
    it("lists actions whose earliest_action has passed and reports the next future one", async () => {
      const a = await systemWithClient("a", "client-a");
      const now = new Date();
      const past = new Date(now.getTime() - 5 * SECOND);
      const future = new Date(now.getTime() + 90 * SECOND);
      const due = await scheduleAction(store, { serverIds: [a.id], earliest: past });
      await scheduleAction(store, { serverIds: [a.id], earliest: future });
      const list = await store.dueActions(now, { includePickedUp: false });
      expect(list).toEqual([
        {
          serverId: a.id,
          actionId: due,
          clientName: "client-a",
          status: 0,
          earliestAction: past,
          created: expect.any(Date),
          actionType: "packages.update",
        },
      ]);
      expect(await store.nextEarliestAction(now)).toEqual(future);
      // Exactly at earliest_action it is due; the next one is strictly later.
      expect(
        (await store.dueActions(future, { includePickedUp: false })).map((d) => d.earliestAction),
      ).toEqual([past, future]);
      expect(await store.nextEarliestAction(future)).toBeNull();
    });

    it("orders by earliest_action, then server id, then action id", async () => {
      const a = await systemWithClient("a", "client-a");
      const b = await systemWithClient("b", "client-b");
      const t1 = new Date(Date.now() - 10 * SECOND);
      const t2 = new Date(Date.now() - 5 * SECOND);
      const late = await scheduleAction(store, { serverIds: [a.id, b.id], earliest: t2 });
      const early = await scheduleAction(store, { serverIds: [b.id, a.id], earliest: t1 });
      const list = await store.dueActions(new Date(), { includePickedUp: false });
      expect(list.map((d) => [d.serverId, d.actionId])).toEqual([
        [a.id, early],
        [b.id, early],
        [a.id, late],
        [b.id, late],
      ]);
    });

    it("blocks an action until its prerequisite is completed on that system", async () => {
      const a = await systemWithClient("a", "client-a");
      const earliest = new Date(Date.now() - SECOND);
      const first = await scheduleAction(store, { serverIds: [a.id], earliest });
      const second = await scheduleAction(store, {
        serverIds: [a.id],
        earliest,
        prerequisite: first,
      });
      const ids = async () =>
        (await store.dueActions(new Date(), { includePickedUp: true })).map((d) => d.actionId);
      expect(await ids()).toEqual([first]);
      await setServerActionStatus(store, { serverId: a.id, actionId: first, status: 1 });
      expect(await ids()).toEqual([first]);
      await setServerActionStatus(store, { serverId: a.id, actionId: first, status: 3 });
      expect(await ids()).toEqual([]);
      await setServerActionStatus(store, { serverId: a.id, actionId: first, status: 2 });
      expect(await ids()).toEqual([second]);
    });

    it("lists picked-up actions only with includePickedUp", async () => {
      const a = await systemWithClient("a", "client-a");
      const action = await scheduleAction(store, {
        serverIds: [a.id],
        earliest: new Date(Date.now() - SECOND),
      });
      await setServerActionStatus(store, { serverId: a.id, actionId: action, status: 1 });
      expect(await store.dueActions(new Date(), { includePickedUp: false })).toEqual([]);
      const list = await store.dueActions(new Date(), { includePickedUp: true });
      expect(list.map((d) => [d.actionId, d.status])).toEqual([[action, 1]]);
      await setServerActionStatus(store, { serverId: a.id, actionId: action, status: 2 });
      expect(await store.dueActions(new Date(), { includePickedUp: true })).toEqual([]);
    });

    it("skips a system while a reboot.reboot action of it is picked up", async () => {
      const a = await systemWithClient("a", "client-a");
      const b = await systemWithClient("b", "client-b");
      const earliest = new Date(Date.now() - SECOND);
      const reboot = await scheduleAction(store, {
        serverIds: [a.id],
        type: "reboot.reboot",
        earliest,
      });
      const update = await scheduleAction(store, { serverIds: [a.id, b.id], earliest });
      const pairs = async (includePickedUp: boolean) =>
        (await store.dueActions(new Date(), { includePickedUp })).map((d) => [
          d.clientName,
          d.actionId,
          d.actionType,
        ]);
      expect(await pairs(false)).toEqual([
        ["client-a", reboot, "reboot.reboot"],
        ["client-a", update, "packages.update"],
        ["client-b", update, "packages.update"],
      ]);
      await setServerActionStatus(store, { serverId: a.id, actionId: reboot, status: 1 });
      expect(await pairs(false)).toEqual([["client-b", update, "packages.update"]]);
      expect(await pairs(true)).toEqual([["client-b", update, "packages.update"]]);
      await setServerActionStatus(store, { serverId: a.id, actionId: reboot, status: 2 });
      expect(await pairs(false)).toEqual([
        ["client-a", update, "packages.update"],
        ["client-b", update, "packages.update"],
      ]);
    });

    it("lists only the named push clients' work when asked for some", async () => {
      const a = await systemWithClient("a", "client-a");
      const b = await systemWithClient("b", "client-b");
      const past = new Date(Date.now() - SECOND);
      const future = new Date(Date.now() + 60 * SECOND);
      const later = new Date(Date.now() + 120 * SECOND);
      const action = await scheduleAction(store, { serverIds: [a.id, b.id], earliest: past });
      await scheduleAction(store, { serverIds: [b.id], earliest: future });
      await scheduleAction(store, { serverIds: [a.id], earliest: later });
      const due = async (clients?: readonly string[]) =>
        (await store.dueActions(new Date(), { includePickedUp: false, clients })).map((d) => [
          d.clientName,
          d.actionId,
        ]);
      expect(await due()).toEqual([
        ["client-a", action],
        ["client-b", action],
      ]);
      expect(await due(["client-b", "not-a-client"])).toEqual([["client-b", action]]);
      expect(await due(["client-a"])).toEqual([["client-a", action]]);
      // A quote in a name is data, not SQL.
      expect(await due(["it's", 'a "name"'])).toEqual([]);
      expect(await due([])).toEqual([]);
      expect(await store.nextEarliestAction(new Date())).toEqual(future);
      expect(await store.nextEarliestAction(new Date(), { clients: ["client-a"] })).toEqual(later);
      expect(await store.nextEarliestAction(new Date(), { clients: [] })).toBeNull();
    });

    it("leaves out systems without a push client", async () => {
      const { system: bare } = await createSystem(store, { name: "no-osad" });
      const a = await systemWithClient("a", "client-a");
      const past = new Date(Date.now() - SECOND);
      await scheduleAction(store, { serverIds: [bare.id], earliest: past });
      await scheduleAction(store, {
        serverIds: [bare.id],
        earliest: new Date(Date.now() + 60 * SECOND),
      });
      expect(await store.dueActions(new Date(), { includePickedUp: true })).toEqual([]);
      expect(await store.nextEarliestAction(new Date())).toBeNull();
      await scheduleAction(store, { serverIds: [a.id], earliest: past });
      expect(
        (await store.dueActions(new Date(), { includePickedUp: true })).map((d) => d.serverId),
      ).toEqual([a.id]);
    });
  });

  describe("presence", () => {
    it("marks clients online and offline, reporting the offline→online change", async () => {
      const a = await systemWithClient("a", "client-a");
      await systemWithClient("b", "client-b");
      const fresh = await store.findClient("client-a");
      expect(fresh).toMatchObject({
        name: "client-a",
        serverId: a.id,
        state: "offline",
        lastMessageTime: null,
      });
      const at = new Date(Date.now() - 1234);
      expect(await store.markOnline("client-a", at)).toBe(true);
      expect(await store.markOnline("client-a", new Date(at.getTime() + 1))).toBe(false);
      expect((await store.findClient("client-a"))?.lastMessageTime).toEqual(
        new Date(at.getTime() + 1),
      );
      expect(await store.markOnline("client-b", at)).toBe(true);
      expect(await store.onlineClientNames()).toEqual(["client-a", "client-b"]);
      await store.markOffline(["client-a", "nobody"]);
      expect(await store.onlineClientNames()).toEqual(["client-b"]);
      expect((await store.findClient("client-a"))?.state).toBe("offline");
      expect(await store.markOnline("nobody", at)).toBe(false);
      expect(await store.findClient("nobody")).toBeUndefined();
      await store.markOffline([]);
    });

    /** Counts the statements the store sends while `work` runs. */
    async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
      const { knex } = internalsOf(store);
      const sent: string[] = [];
      const listener = (query: { sql: string }) => sent.push(query.sql);
      knex.on("query", listener);
      try {
        await work();
      } finally {
        knex.off("query", listener);
      }
      return sent;
    }

    it("refreshes last_message_time of 10,000 names in ONE statement, touching only those rows", async () => {
      const clients = Array.from({ length: 30 }, (_, i) => `client-${i}`);
      for (const name of clients) await systemWithClient(`host-${name}`, name);
      await systemWithClient("other", "not-listed");
      for (const name of clients) await store.markOnline(name, new Date(0));
      const names = [...clients, ...Array.from({ length: 9_970 }, (_, i) => `missing-${i}`)];
      const at = new Date(Date.now() - 4321);
      let updated = -1;
      const sent = await statementsOf(async () => {
        updated = await store.refreshMessageTimes(names, at);
      });
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^update/i);
      expect(updated).toBe(30);
      for (const name of clients) {
        expect(await store.findClient(name)).toMatchObject({
          state: "online",
          lastMessageTime: at,
        });
      }
      expect((await store.findClient("not-listed"))?.lastMessageTime).toBeNull();
      expect(await store.refreshMessageTimes([], at)).toBe(0);
    });

    it("marks clients offline in one statement, clearing last_ping_time and next_action_time; an offline row is left as it is", async () => {
      await systemWithClient("a", "client-a");
      await systemWithClient("b", "client-b");
      await store.markOnline("client-a", new Date());
      await db.query(
        kind === "postgres"
          ? "UPDATE rhnpushclient SET last_ping_time = now(), next_action_time = now()"
          : "UPDATE rhnpushclient SET last_ping_time = '2030-01-01T00:00:00.000Z', next_action_time = '2030-01-01T00:00:20.000Z'",
      );
      const [offlineBefore] = await db.query("SELECT * FROM rhnpushclient WHERE name = 'client-b'");
      const names = ["client-a", "client-b", ...Array.from({ length: 9_998 }, (_, i) => `x${i}`)];
      const sent = await statementsOf(() => store.markOffline(names));
      expect(sent.filter((sql) => /^update/i.test(sql))).toHaveLength(1);
      expect(await store.findClient("client-a")).toMatchObject({
        state: "offline",
        lastPingTime: null,
        nextActionTime: null,
      });
      // client-b was offline already: no state change, nothing written.
      expect(await db.query("SELECT * FROM rhnpushclient WHERE name = 'client-b'")).toEqual([
        offlineBefore,
      ]);
    });

    it("writes many clients online in two statements and tells which were offline", async () => {
      await systemWithClient("a", "client-a");
      await systemWithClient("b", "client-b");
      await systemWithClient("c", "client-c");
      const at = new Date(Date.now() - 5_000);
      expect(await store.markOnline("client-b", at)).toBe(true);
      await store.setPingDeadline("client-b", new Date());
      const later = new Date(at.getTime() + 1_000);
      const names = [
        "client-a",
        "client-b",
        ...Array.from({ length: 5_000 }, (_, i) => `gone-${i}`),
      ];
      let wasOffline: string[] = [];
      const sent = await statementsOf(async () => {
        wasOffline = await store.markManyOnline(names, later);
      });
      expect(sent).toHaveLength(2);
      expect(wasOffline).toEqual(["client-a"]);
      for (const name of ["client-a", "client-b"]) {
        expect(await store.findClient(name)).toMatchObject({
          state: "online",
          lastMessageTime: later,
          lastPingTime: null,
          nextActionTime: null,
        });
      }
      expect((await store.findClient("client-c"))?.state).toBe("offline");
      expect(await store.markManyOnline(["client-a", "client-b"], later)).toEqual([]);
      expect(await store.markManyOnline([], later)).toEqual([]);
    });

    it("reads the shared keys of 10,000 names in one statement", async () => {
      await systemWithClient("a", "client-a");
      const b = await createSystem(store, { name: "b" });
      await store.registerPushClient(b.system.id, { name: "client-b", sharedKey: "s".repeat(40) });
      const names = [
        "client-a",
        "client-b",
        ...Array.from({ length: 9_998 }, (_, i) => `gone-${i}`),
      ];
      let keys = new Map<string, string>();
      const sent = await statementsOf(async () => {
        keys = await store.sharedKeysOf(names);
      });
      expect(sent).toHaveLength(1);
      expect([...keys].sort()).toEqual([
        ["client-a", "k".repeat(40)],
        ["client-b", "s".repeat(40)],
      ]);
      expect(await store.sharedKeysOf([])).toEqual(new Map());
    });

    it("tells which names have a row, and a system's client name", async () => {
      const a = await systemWithClient("a", "client-a");
      const names = ["client-a", ...Array.from({ length: 9_999 }, (_, i) => `gone-${i}`)];
      const sent = await statementsOf(async () => {
        expect(await store.existingClientNames(names)).toEqual(["client-a"]);
      });
      expect(sent).toHaveLength(1);
      expect(await store.existingClientNames([])).toEqual([]);
      expect(await store.clientNameOf(a.id)).toBe("client-a");
      expect(await store.clientNameOf(a.id + 1000)).toBeUndefined();
    });

    it("handles the web UI ping: request, deadline, expiry, answer", async () => {
      await systemWithClient("a", "client-a");
      await systemWithClient("b", "client-b");
      await store.markOnline("client-a", new Date());
      await store.markOnline("client-b", new Date());
      // What Spacewalk's system.sendOsaPing writes: last_ping_time = now, next_action_time cleared.
      await db.query(
        kind === "postgres"
          ? "UPDATE rhnpushclient SET last_ping_time = now(), next_action_time = NULL"
          : "UPDATE rhnpushclient SET last_ping_time = strftime('%Y-%m-%dT%H:%M:%fZ','now'), next_action_time = NULL",
      );
      expect(await store.requestedPings()).toEqual(["client-a", "client-b"]);
      const now = new Date();
      const deadline = new Date(now.getTime() + 20 * SECOND);
      await store.setPingDeadline("client-a", deadline);
      await store.setPingDeadline("client-b", deadline);
      expect(await store.requestedPings()).toEqual([]);
      expect((await store.findClient("client-a"))?.nextActionTime).toEqual(deadline);
      expect(await store.expiredPingDeadlines(now)).toEqual([]);
      // client-a answers in time: online, ping fields cleared.
      expect(await store.markOnline("client-a", new Date())).toBe(false);
      const answered = await store.findClient("client-a");
      expect(answered).toMatchObject({ state: "online", lastPingTime: null, nextActionTime: null });
      const later = new Date(deadline.getTime() + 1);
      expect(await store.expiredPingDeadlines(later)).toEqual(["client-b"]);
      await store.markOffline(["client-b"]);
      // Once offline it is not reported again (osa-dispatcher's reaper only looks at online clients).
      expect(await store.expiredPingDeadlines(later)).toEqual([]);
    });

    it("re-registers a system's push client: new name and key, offline, ping times cleared", async () => {
      const a = await systemWithClient("a", "first-name");
      await store.markOnline("first-name", new Date());
      await store.setPingDeadline("first-name", new Date());
      await store.registerPushClient(a.id, { name: "second-name", sharedKey: "s".repeat(40) });
      expect(await db.count("rhnpushclient")).toBe(1);
      expect(await store.findClient("first-name")).toBeUndefined();
      const client = await store.findClient("second-name");
      expect(client).toMatchObject({
        serverId: a.id,
        state: "offline",
        lastPingTime: null,
        nextActionTime: null,
      });
      const [row] = await db.query("SELECT shared_key FROM rhnpushclient");
      expect(row?.shared_key).toBe("s".repeat(40));
    });

    it("records jabber ids like Spacewalk (moved away from any other system)", async () => {
      const a = await systemWithClient("a", "client-a");
      const b = await systemWithClient("b", "client-b");
      await store.registerPushClientJid(a.id, "osad@host/a");
      await store.registerPushClientJid(b.id, "osad@host/a");
      const rows = await db.query("SELECT name, jabber_id FROM rhnpushclient ORDER BY name");
      expect(rows.map((r) => [r.name, r.jabber_id])).toEqual([
        ["client-a", null],
        ["client-b", "osad@host/a"],
      ]);
    });
  });

  describe("seeding", () => {
    it("refuses unknown action types, systems and server actions with clear errors", async () => {
      const { system } = await createSystem(store, { name: "s" });
      await expect(
        scheduleAction(store, { serverIds: [system.id], type: "no.such" }),
      ).rejects.toThrow(/unknown action type "no.such"; known: .*reboot\.reboot/);
      await expect(scheduleAction(store, { serverIds: [42] })).rejects.toThrow(
        /no rhnServer row for id\(s\) 42/,
      );
      await expect(
        setServerActionStatus(store, { serverId: system.id, actionId: 999, status: 2 }),
      ).rejects.toThrow(/no rhnServerAction row/);
      await expect(createSystem(store, { name: "x", secret: "short" })).rejects.toThrow(
        /64 \(sha256\) or 32 \(md5\)/,
      );
      expect(await db.count("rhnaction")).toBe(0);
    });
  });

  it("passes its health check", async () => {
    await expect(store.healthCheck()).resolves.toBeUndefined();
  });
});

describe("notifications on postgres", () => {
  let db: TestDatabase;
  let store: SpacewalkStore;
  // Other suites share the database and NOTIFY channel: count only our own, unusual server id.
  const ownId = 1_900_000_000 + Math.floor(Math.random() * 90_000_000);

  beforeEach(async () => {
    db = await createTestDatabase("postgres");
    store = await openStore(db.url, { schema: db.schema });
  });

  afterEach(async () => {
    await store.close();
    await db.drop();
  });

  it("LISTENs to the opt-in trigger and catches up after the connection is killed", async () => {
    expect(await store.prepare({ notifyTrigger: true })).toMatchObject({
      schema: "created",
      notifyTrigger: true,
    });
    const { system } = await createSystem(store, { name: "a", id: ownId });
    let notified = 0;
    let catchUps = 0;
    const events: string[] = [];
    const stop = await store.subscribeWakeUps({
      wakeUp(serverId) {
        if (serverId === ownId) notified++;
        if (serverId === undefined) catchUps++;
      },
      connectionChanged: (e) => events.push(e.type),
    });
    try {
      expect(events).toEqual(["listening"]);
      const action = await scheduleAction(store, { serverIds: [system.id] });
      await waitFor("NOTIFY after insert", async () => notified === 1);
      await setServerActionStatus(store, { serverId: system.id, actionId: action, status: 1 });
      await waitFor("NOTIFY after update", async () => notified === 2);
      expect(catchUps).toBe(0);
      // pg_terminate_backend on every connection of this run, the LISTEN one included.
      expect(await db.terminateConnections()).toBeGreaterThanOrEqual(1);
      await waitFor(
        "catch-up call after reconnect",
        async () => catchUps === 1 && events.at(-1) === "listening",
      );
      expect(events).toEqual(["listening", "disconnected", "listening"]);
      // The pool lost its connections too; the next query must still work and notify the new connection.
      await scheduleAction(store, { serverIds: [system.id] });
      await waitFor("NOTIFY on the new connection", async () => notified === 3);
    } finally {
      await stop();
    }
  });

  it("installs no trigger unless asked, and a stopped wake-up subscription hears nothing", async () => {
    expect(await store.prepare()).toMatchObject({ notifyTrigger: false });
    const triggers = await db.query(
      "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = 'rhnserveraction' AND c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal",
    );
    expect(triggers).toEqual([]);
    let notified = 0;
    const stop = await store.subscribeWakeUps({
      wakeUp(serverId) {
        if (serverId === ownId) notified++;
      },
    });
    await db.query(`SELECT pg_notify('osad2_actions', '${ownId}')`);
    await waitFor("manual NOTIFY", async () => notified === 1);
    await stop();
    await db.query(`SELECT pg_notify('osad2_actions', '${ownId}')`);
    await db.query("SELECT pg_sleep(0.1)");
    expect(notified).toBe(1);
  });
});

describe("notifications on sqlite (a file: test/sqlite-wake-ups.test.ts)", () => {
  it("in memory: a no-op wake-up subscription (the server polls), and never a trigger", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      expect(await store.prepare({ notifyTrigger: true })).toMatchObject({ notifyTrigger: false });
      let notified = 0;
      const stop = await store.subscribeWakeUps({ wakeUp: () => notified++ });
      const { system } = await createSystem(store, { name: "a" });
      await scheduleAction(store, { serverIds: [system.id] });
      await stop();
      expect(notified).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe("seeding beside another writer (sqlite)", () => {
  /**
   * Another process holds SQLite's write lock for holdMs (better-sqlite3 blocks this process's
   * thread while it waits, so the holder releases by its own timer); `releasedAt` is its clock
   * just before COMMIT.
   */
  async function holdWriteLock(
    file: string,
    holdMs: number,
  ): Promise<{ released: Promise<{ releasedAt: number }> }> {
    const script = `
      const db = new (require("better-sqlite3"))(${JSON.stringify(file)}, { timeout: 5000 });
      db.exec("BEGIN IMMEDIATE");
      db.exec("UPDATE rhnserver SET name = name");
      console.log("locked");
      setTimeout(() => { const at = Date.now(); db.exec("COMMIT"); db.close(); console.log("released " + at); }, ${holdMs});`;
    const child = spawn(process.execPath, ["-e", script], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => output.includes("locked") && resolve());
      child.on("exit", (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    const released = new Promise<{ releasedAt: number }>((resolve) =>
      child.on("exit", () => resolve({ releasedAt: Number(/released (\d+)/.exec(output)?.[1]) })),
    );
    return { released };
  }

  it("scheduleAction and createSystem wait for another process's write lock instead of failing busy", async () => {
    const db = await createTestDatabase("sqlite");
    const store = await openStore(db.url);
    const file = db.url.slice("sqlite:".length);
    try {
      await store.prepare();
      const { system } = await createSystem(store, { name: "locked" });
      let { released } = await holdWriteLock(file, 400);
      await scheduleAction(store, { serverIds: [system.id] });
      // It could only get through once the other process let go of the lock.
      const scheduledAt = Date.now();
      expect(scheduledAt).toBeGreaterThanOrEqual((await released).releasedAt);
      expect(await db.count("rhnserveraction")).toBe(1);
      ({ released } = await holdWriteLock(file, 200));
      await createSystem(store, { name: "second" });
      const createdAt = Date.now();
      expect(createdAt).toBeGreaterThanOrEqual((await released).releasedAt);
      expect(await db.count("rhnserver")).toBe(2);
    } finally {
      await store.close();
      await db.drop();
    }
  });
});

describe("opening stores", () => {
  it("rejects bad URLs and options with DatabaseConfigError naming the key", async () => {
    for (const url of ["", "mysql://x/y", "sqlite:", "postgres://"]) {
      await expect(openStore(url)).rejects.toBeInstanceOf(DatabaseConfigError);
    }
    await expect(openStore("sqlite::memory:", { schema: "x" })).rejects.toThrow(
      /database_schema: applies to PostgreSQL only/,
    );
    await expect(openStore("postgres://u@h/db", { schema: "bad name;" })).rejects.toThrow(
      /database_schema/,
    );
    await expect(openStore("postgres://u@h/db", { poolMax: 0 })).rejects.toThrow(/poolMax/);
  });

  it("reports an unreachable PostgreSQL as DatabaseUnavailableError with the host and a hint", async () => {
    const store = await openStore("postgres://postgres:secret@127.0.0.1:1/test");
    try {
      const error = await store.healthCheck().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as DatabaseUnavailableError).host).toBe("127.0.0.1:1/test");
      expect((error as Error).message).toMatch(/check that PostgreSQL runs/);
      expect((error as Error).message).not.toMatch(/secret/);
      await expect(store.prepare()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await store.close();
    }
  });

  it("reports an unusable SQLite path as DatabaseUnavailableError", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "osad2-db-"));
    try {
      // A regular file where the database's directory should be.
      await fs.writeFile(path.join(dir, "not-a-dir"), "");
      const error = await openStore(`sqlite:${dir}/not-a-dir/x.db`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as Error).message).toMatch(
        /cannot create its directory \(E[A-Z]+\).*readable and writable/,
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("works on an in-memory SQLite database", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      expect((await store.prepare()).schema).toBe("created");
      const { system } = await createSystem(store, { name: "mem" });
      expect(await store.findSystem(system.digitalServerId)).toEqual(system);
    } finally {
      await store.close();
    }
  });
});
