import xmlrpc from "xmlrpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSystem, scheduleAction, setServerActionStatus } from "../src/db/index.js";
import type { SpacewalkStore } from "../src/db/types.js";
import { ServerStateError, UnknownClientError } from "../src/errors.js";
import type { NotifiedEvent } from "../src/notifier.js";
import { createServer, type Osad2Server } from "../src/server.js";
import type { ServerConfig } from "../src/config-schema.js";
import { createTestDatabase, type TestDatabase } from "./db-fixtures.js";
import {
  clientName,
  connectClient,
  createTestKeys,
  eventually,
  freePort,
  metricSum,
  seedClient,
  startTestServer,
  testConfig,
  testStore,
  type TestClient,
  type TestKeys,
} from "./core-fixtures.js";

describe("server lifecycle: restart, throttle, notify(), reload, metrics (SQLite)", () => {
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

  async function server(overrides: Partial<ServerConfig> = {}) {
    const s = await startTestServer(db, keys, overrides);
    servers.push(s);
    return s;
  }

  async function registered() {
    const name = clientName();
    const serverId = await seedClient(store, name);
    const keyPair = await keys.allow(name);
    return { name, serverId, keyPair };
  }

  it("after a restart every still-queued action is announced again (in-memory state is not needed)", async () => {
    const first = await server({ actionPollInterval: 30, renotifyInterval: 3600 });
    const sys = await registered();
    const c1 = connectClient(first, keys, sys.name, sys.keyPair);
    clients.push(c1);
    await eventually("online", async () => (await store.findClient(sys.name))?.state === "online");
    const queued = await scheduleAction(store, { serverIds: [sys.serverId] });
    await first.notify(sys.serverId);
    await eventually("first announcement", () => c1.checkins >= 1);
    await first.stop();
    servers.splice(servers.indexOf(first), 1);
    await c1.close();

    // A new process on the same database: the client is still online there, the action still queued.
    const second = await server({ actionPollInterval: 30, renotifyInterval: 3600 });
    const events: NotifiedEvent[] = [];
    second.on("notified", (e) => events.push(e));
    const c2 = connectClient(second, keys, sys.name, sys.keyPair, { hello: false });
    clients.push(c2);
    await eventually("announced again after restart", () => c2.checkins >= 1, 5_000);
    expect(events.some((e) => e.actionIds.includes(queued))).toBe(true);
  });

  it("throttles to checkin_count systems asked and not yet done; the rest follow as slots free", async () => {
    const s = await server({ checkinCount: 2, actionPollInterval: 0.2 });
    const notified: NotifiedEvent[] = [];
    s.on("notified", (e) => notified.push(e));
    const systems: (Awaited<ReturnType<typeof registered>> & { client: TestClient })[] = [];
    for (let i = 0; i < 5; i++) {
      const sys = await registered();
      const client = connectClient(s, keys, sys.name, sys.keyPair);
      clients.push(client);
      systems.push({ ...sys, client });
    }
    for (const sys of systems) {
      await eventually(
        "online",
        async () => (await store.findClient(sys.name))?.state === "online",
      );
    }
    const actionId = await scheduleAction(store, { serverIds: systems.map((x) => x.serverId) });
    const asked = () => new Set(notified.map((e) => e.serverId));
    await eventually("two asked", () => asked().size === 2);
    const pings = systems[0]?.client.pings ?? 0;
    await eventually("several polls", () => (systems[0]?.client.pings ?? 0) >= pings + 4);
    expect(asked().size).toBe(2);

    // One system finishes (completed): exactly one more is asked.
    const [done] = [...asked()];
    await setServerActionStatus(store, { serverId: done as number, actionId, status: 2 });
    await eventually("third asked", () => asked().size === 3);
    const p2 = systems[0]?.client.pings ?? 0;
    await eventually("more polls", () => (systems[0]?.client.pings ?? 0) >= p2 + 4);
    expect(asked().size).toBe(3);

    // checkin_count 0 = unlimited, applied on reload (SIGHUP).
    const result = await s.reload({
      ...testConfig(db, keys),
      checkinCount: 0,
      actionPollInterval: 0.2,
    });
    expect(result.applied).toContain("checkinCount");
    await eventually("all asked", () => asked().size === 5);
  });

  it("notify() publishes at once by client name or server id; unknown names are an error", async () => {
    const s = await server({ actionPollInterval: 30 });
    const sys = await registered();
    const c = connectClient(s, keys, sys.name, sys.keyPair);
    clients.push(c);
    await eventually("online", async () => (await store.findClient(sys.name))?.state === "online");
    await expect(s.notify(sys.name)).resolves.toEqual({
      published: true,
      clientName: sys.name,
      serverId: sys.serverId,
      actionIds: [],
    });
    await eventually("forced checkin", () => c.checkins === 1);
    await expect(s.notify(sys.serverId)).resolves.toMatchObject({
      published: false,
      clientName: null,
    });
    await expect(s.notify("no-such-client")).rejects.toBeInstanceOf(UnknownClientError);
    await expect(s.notify("bad name with spaces")).rejects.toThrow(/client name/);
  });

  it("serves /metrics and /healthz, and refuses lifecycle calls out of order", async () => {
    const metricsPort = await freePort();
    const s = await server({ metricsPort });
    const sys = await registered();
    const c = connectClient(s, keys, sys.name, sys.keyPair);
    clients.push(c);
    await eventually("online", async () => (await store.findClient(sys.name))?.state === "online");
    await scheduleAction(store, { serverIds: [sys.serverId] });
    await eventually("checkin", () => c.checkins >= 1);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metricSum(text, "osad2_notifications_published_total")).toBeGreaterThanOrEqual(1);
    expect(metricSum(text, "osad2_notify_latency_seconds_count")).toBe(1);
    expect(metricSum(text, "osad2_clients_online")).toBe(1);
    expect(text).toContain("osad2_auth_failures_total");
    expect(text).toContain("osad2_poll_errors_total");
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      healthy: true,
      db: { ok: true, kind: "sqlite" },
      clientsOnline: 1,
    });
    expect((await fetch(`http://127.0.0.1:${metricsPort}/nope`)).status).toBe(404);

    await expect(s.start()).rejects.toBeInstanceOf(ServerStateError);
    await s.stop();
    await s.stop(); // idempotent
    await expect(s.notify(sys.name)).rejects.toBeInstanceOf(ServerStateError);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/healthz`)).rejects.toThrow();
  });

  it("fails to start with a clear error when the ports are taken, and leaves nothing behind", async () => {
    const s = await server();
    const { publisherPort } = s.endpoints();
    const clash = createServer(
      { ...testConfig(db, keys), publisherPort },
      { processMetrics: false },
    );
    await expect(clash.start()).rejects.toThrow(
      /cannot bind tcp:\/\/127\.0\.0\.1:\d+: address already in use/,
    );
    expect(clash.state).toBe("stopped");
  });

  it("serves register_osad over XML-RPC with the endpoints and server key as extensions", async () => {
    const xmlrpcPort = await freePort();
    const s = await server({ xmlrpcPort, publicHost: "127.0.0.1" });
    const endpoints = s.endpoints();
    expect(endpoints.xmlrpc).toBe(`http://127.0.0.1:${xmlrpcPort}/XMLRPC`);
    const { system, systemIdXml } = await createSystem(store, { name: "web01" });
    const client = xmlrpc.createClient({ host: "127.0.0.1", port: xmlrpcPort, path: "/XMLRPC" });
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) =>
      client.methodCall(
        "registration.register_osad",
        [systemIdXml, { "client-timestamp": 1 }],
        (error, value) => (error ? reject(error) : resolve(value as Record<string, unknown>)),
      ),
    );
    expect(reply).toMatchObject({
      "jabber-server": "127.0.0.1",
      "publisher-endpoint": `tcp://127.0.0.1:${endpoints.publisherPort}`,
      "listener-endpoint": `tcp://127.0.0.1:${endpoints.listenerPort}`,
      "server-public-key": keys.server.publicKey,
      "client-timestamp": 1,
    });
    const name = reply["client-name"] as string;
    expect(name).toMatch(/^[0-9a-f]{16}$/);
    expect(await store.findClient(name)).toMatchObject({ serverId: system.id, state: "offline" });
  });
});
