import xmlrpc from "xmlrpc";
import { describe, expect, it } from "vitest";
import { createSystem, scheduleAction, setServerActionStatus } from "../src/testing/index.js";
import { ServerStateError, UnknownClientError } from "../src/errors.js";
import type { NotifiedEvent } from "../src/dispatch/ports.js";
import { createServer } from "../src/server.js";
import { freePort, waitFor } from "@osad2/test-helpers";
import {
  connectClient,
  metricSum,
  testConfig,
  type OnlineClient,
  useServerHarness,
} from "./core-fixtures.js";

describe("server lifecycle: restart, throttle, notify(), reload, metrics (SQLite)", () => {
  const h = useServerHarness("sqlite");

  it("after a restart every still-queued action is announced again (in-memory state is not needed)", async () => {
    const first = await h.server({ actionPollInterval: 30, renotifyInterval: 3600 });
    const { client: c1, ...sys } = await h.onlineClient(first);
    const queued = await scheduleAction(h.store, { serverIds: [sys.serverId] });
    await first.notify(sys.serverId);
    await waitFor("first announcement", () => c1.checkins >= 1);
    await first.stop();
    h.servers.splice(h.servers.indexOf(first), 1);
    await c1.close();

    // A new process on the same database: the client is still online there, the action still queued.
    const second = await h.server({ actionPollInterval: 30, renotifyInterval: 3600 });
    const events: NotifiedEvent[] = [];
    second.on("notified", (e) => events.push(e));
    const c2 = connectClient(second, h.keys, sys.name, sys.keyPair, { hello: false });
    h.clients.push(c2);
    await waitFor("announced again after restart", () => c2.checkins >= 1);
    expect(events.some((e) => e.actionIds.includes(queued))).toBe(true);
  });

  it("throttles to checkin_count systems asked and not yet done; the rest follow as slots free", async () => {
    const s = await h.server({ notifyThreshold: 2, actionPollInterval: 0.2 });
    const notified: NotifiedEvent[] = [];
    s.on("notified", (e) => notified.push(e));
    const systems: OnlineClient[] = [];
    for (let i = 0; i < 5; i++) {
      const sys = await h.registered();
      const client = connectClient(s, h.keys, sys.name, sys.keyPair);
      h.clients.push(client);
      systems.push({ ...sys, client });
    }
    for (const sys of systems) {
      await waitFor("online", async () => (await h.store.findClient(sys.name))?.state === "online");
    }
    const actionId = await scheduleAction(h.store, { serverIds: systems.map((x) => x.serverId) });
    const asked = () => new Set(notified.map((e) => e.serverId));
    await waitFor("two asked", () => asked().size === 2);
    const pings = systems[0]?.client.pings ?? 0;
    await waitFor("several polls", () => (systems[0]?.client.pings ?? 0) >= pings + 4);
    expect(asked().size).toBe(2);

    // One system finishes (completed): exactly one more is asked.
    const [done] = [...asked()];
    await setServerActionStatus(h.store, { serverId: done as number, actionId, status: 2 });
    await waitFor("third asked", () => asked().size === 3);
    const p2 = systems[0]?.client.pings ?? 0;
    await waitFor("more polls", () => (systems[0]?.client.pings ?? 0) >= p2 + 4);
    expect(asked().size).toBe(3);

    // checkin_count 0 = unlimited, applied on reload (SIGHUP).
    const result = await s.reload({
      ...testConfig(h.db, h.keys),
      notifyThreshold: 0,
      actionPollInterval: 0.2,
    });
    expect(result.applied).toContain("notifyThreshold");
    await waitFor("all asked", () => asked().size === 5);
  });

  it("notify() publishes at once by client name or server id; unknown names are an error", async () => {
    const s = await h.server({ actionPollInterval: 30 });
    const { client: c, ...sys } = await h.onlineClient(s);
    await expect(s.notify(sys.name)).resolves.toEqual({
      published: true,
      clientName: sys.name,
      serverId: sys.serverId,
      actionIds: [],
    });
    await waitFor("forced checkin", () => c.checkins === 1);
    await expect(s.notify(sys.serverId)).resolves.toMatchObject({
      published: false,
      clientName: null,
    });
    await expect(s.notify("no-such-client")).rejects.toBeInstanceOf(UnknownClientError);
    await expect(s.notify("bad name with spaces")).rejects.toThrow(/client name/);
  });

  it("serves /metrics and /healthz, and refuses lifecycle calls out of order", async () => {
    const metricsPort = await freePort();
    const s = await h.server({ metricsPort });
    const { client: c, ...sys } = await h.onlineClient(s);
    await scheduleAction(h.store, { serverIds: [sys.serverId] });
    await waitFor("checkin", () => c.checkins >= 1);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metricSum(text, "osad2_notifications_published_total")).toBeGreaterThanOrEqual(1);
    expect(metricSum(text, "osad2_checkin_latency_seconds_count")).toBe(1);
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
    const s = await h.server();
    const { publisherPort } = s.endpoints();
    const clash = createServer(
      { ...testConfig(h.db, h.keys), publisherPort },
      { processMetrics: false },
    );
    await expect(clash.start()).rejects.toThrow(
      /cannot bind tcp:\/\/127\.0\.0\.1:\d+: address already in use/,
    );
    expect(clash.state).toBe("stopped");
  });

  it("serves register_osad over XML-RPC with the endpoints and server key as extensions", async () => {
    const xmlrpcPort = await freePort();
    const s = await h.server({ xmlrpcPort, publicHost: "127.0.0.1" });
    const endpoints = s.endpoints();
    expect(endpoints.xmlrpc).toBe(`http://127.0.0.1:${xmlrpcPort}/XMLRPC`);
    const { system, systemIdXml } = await createSystem(h.store, { name: "web01" });
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
      "server-public-key": h.keys.server.publicKey,
      "client-timestamp": 1,
    });
    const name = reply["client-name"] as string;
    expect(name).toMatch(/^[0-9a-f]{16}$/);
    expect(await h.store.findClient(name)).toMatchObject({ serverId: system.id, state: "offline" });
  });
});
