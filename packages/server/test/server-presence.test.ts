import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scheduleAction } from "../src/db/index.js";
import type { SpacewalkStore } from "../src/db/types.js";
import type { Osad2Server } from "../src/server.js";
import { createTestDatabase, type TestDatabase } from "./db-fixtures.js";
import {
  clientName,
  connectClient,
  createTestKeys,
  eventually,
  seedClient,
  startTestServer,
  testStore,
  type TestClient,
  type TestKeys,
} from "./core-fixtures.js";
import type { CreateServerOptions } from "../src/server.js";
import type { ServerConfig } from "../src/config-schema.js";

describe("presence in rhnPushClient (SQLite)", () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let store: SpacewalkStore;
  const servers: Osad2Server[] = [];
  const clients: TestClient[] = [];

  beforeEach(async () => {
    db = await createTestDatabase("sqlite");
    keys = await createTestKeys();
    store = await testStore(db);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await store.close();
    await keys.remove();
    await db.drop();
  });

  async function server(overrides: Partial<ServerConfig> = {}, options: CreateServerOptions = {}) {
    const s = await startTestServer(db, keys, overrides, options);
    servers.push(s);
    return s;
  }

  async function registered() {
    const name = clientName();
    const serverId = await seedClient(store, name);
    const keyPair = await keys.allow(name);
    return { name, serverId, keyPair };
  }

  it("a seed-style client that only answers pings goes online with last_message_time set", async () => {
    const s = await server();
    const online: string[] = [];
    s.on("online", (e) => online.push(e.clientName));
    const { name, keyPair } = await registered();
    const before = Date.now();
    clients.push(connectClient(s, keys, name, keyPair, { hello: false }));
    await eventually("online", async () => (await store.findClient(name))?.state === "online");
    const row = await store.findClient(name);
    expect(row?.lastMessageTime?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(online).toEqual([name]);
  });

  it("goes offline after missed_pings unanswered pings, and back online with a catch-up checkin", async () => {
    const s = await server({ missedPings: 3, pingInterval: 0.2 });
    const offline: string[] = [];
    s.on("offline", (e) => offline.push(e.clientName));
    const { name, serverId, keyPair } = await registered();
    const silent = connectClient(s, keys, name, keyPair);
    clients.push(silent);
    await eventually("online", async () => (await store.findClient(name))?.state === "online");
    await silent.close();
    const gone = Date.now();
    await eventually(
      "offline",
      async () => (await store.findClient(name))?.state === "offline",
      5_000,
    );
    // Three pings at 200 ms: not before ~0.4 s, well within a few intervals.
    expect(Date.now() - gone).toBeGreaterThanOrEqual(300);
    expect(offline).toEqual([name]);

    // Work queued while it was away is announced the moment it comes back.
    await scheduleAction(store, { serverIds: [serverId] });
    const back = connectClient(s, keys, name, keyPair, { hello: false });
    clients.push(back);
    await eventually("catch-up checkin", () => back.checkins >= 1, 5_000);
    expect((await store.findClient(name))?.state).toBe("online");
  });

  it("serves the web UI ping at once: the ping's answer clears last_ping_time and next_action_time", async () => {
    // Regular pings 30 s apart: within the test only the web-UI ping can get an answer written.
    const s = await server({ missedPings: 1000, pingInterval: 30 });
    const { name, keyPair } = await registered();
    const client = connectClient(s, keys, name, keyPair);
    clients.push(client);
    await eventually("online", async () => (await store.findClient(name))?.state === "online");
    // What Spacewalk's system.sendOsaPing does.
    await db.query(
      "UPDATE rhnPushClient SET last_ping_time = ?, next_action_time = NULL WHERE name = ?",
      [new Date().toISOString(), name],
    );
    const pings = client.pings;
    await eventually(
      "answered and cleared",
      async () => {
        const row = await store.findClient(name);
        return row?.state === "online" && row.lastPingTime === null && row.nextActionTime === null;
      },
      3_000,
    );
    expect(client.pings).toBe(pings + 1);
  });

  it("marks a client that misses the web UI ping deadline offline", async () => {
    // missed_pings out of the way: only the UI deadline (shortened to 600 ms) can take it offline.
    const s = await server({ missedPings: 1000 }, { uiPingTimeoutMs: 600 });
    const offline: string[] = [];
    s.on("offline", (e) => offline.push(e.clientName));
    const { name, keyPair } = await registered();
    const client = connectClient(s, keys, name, keyPair);
    clients.push(client);
    await eventually("online", async () => (await store.findClient(name))?.state === "online");
    await client.close();
    const requested = new Date();
    await db.query(
      "UPDATE rhnPushClient SET last_ping_time = ?, next_action_time = NULL WHERE name = ?",
      [requested.toISOString(), name],
    );
    await eventually(
      "deadline set",
      async () => (await store.findClient(name))?.nextActionTime !== null,
    );
    const row = await store.findClient(name);
    const deadline = row?.nextActionTime?.getTime() ?? 0;
    expect(deadline - requested.getTime()).toBeGreaterThanOrEqual(500);
    expect(row?.state).toBe("online");
    await eventually(
      "offline past the deadline",
      async () => (await store.findClient(name))?.state === "offline",
      5_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    // Spacewalk's getOsaPing keeps showing when it was pinged.
    expect((await store.findClient(name))?.lastPingTime).not.toBeNull();
    expect(offline).toEqual([name]);
  });
});
