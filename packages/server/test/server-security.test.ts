import * as zmq from "zeromq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateKeyPair } from "@osad2/keys";
import { encodeHello, encodePong } from "@osad2/protocol";
import { scheduleAction } from "../src/db/index.js";
import type { SpacewalkStore } from "../src/db/types.js";
import type { AuthFailureEvent } from "../src/events.js";
import type { Osad2Server } from "../src/server.js";
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
  testStore,
  type TestClient,
  type TestKeys,
} from "./core-fixtures.js";

describe("CURVE, ZAP allow-list, revocation and hostile input (SQLite)", () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let store: SpacewalkStore;
  const servers: Osad2Server[] = [];
  const clients: TestClient[] = [];
  const sockets: zmq.Socket[] = [];

  beforeEach(async () => {
    db = await createTestDatabase("sqlite");
    keys = await createTestKeys();
    store = await testStore(db);
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
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

  async function registered(allowed = true) {
    const name = clientName();
    const serverId = await seedClient(store, name);
    const keyPair = allowed ? await keys.allow(name) : generateKeyPair();
    return { name, serverId, keyPair };
  }

  it("delivers nothing to a client whose key is not in public_keys/, and reports the refusal", async () => {
    const s = await server();
    const failures: AuthFailureEvent[] = [];
    s.on("auth-failure", (e) => failures.push(e));
    const good = await registered();
    const stranger = await registered(false);
    const a = connectClient(s, keys, good.name, good.keyPair);
    const u = connectClient(s, keys, stranger.name, stranger.keyPair);
    clients.push(a, u);
    await scheduleAction(store, { serverIds: [good.serverId, stranger.serverId] });
    await eventually(
      "stranger refused on both sockets",
      () => u.eventCount("handshake:error:auth") >= 2,
    );
    await eventually("good client served", () => a.checkins >= 1);
    const pings = a.pings;
    await eventually("three more pings to the good client", () => a.pings >= pings + 3);
    expect(u.received).toHaveLength(0);
    expect((await store.findClient(stranger.name))?.state).toBe("offline");
    expect(
      failures.some((f) => f.publicKey === stranger.keyPair.publicKey && f.address === "127.0.0.1"),
    ).toBe(true);
    expect(failures.every((f) => f.reason === "unknown-key")).toBe(true);
  });

  it("cuts a connected client off within 5 s of its key being revoked; others carry on", async () => {
    const s = await server({ pingInterval: 0.2 });
    const victim = await registered();
    const other = await registered();
    const v = connectClient(s, keys, victim.name, victim.keyPair);
    const o = connectClient(s, keys, other.name, other.keyPair);
    clients.push(v, o);
    await eventually("both receive pings", () => v.pings >= 2 && o.pings >= 2);
    const revokedAt = Date.now();
    await keys.revoke(victim.name);
    await eventually(
      "victim refused on reconnect",
      () => v.eventCount("handshake:error:auth", "sub") >= 1,
      5_000,
    );
    const cutAfter = Math.max(...v.received.map((r) => r.at)) - revokedAt;
    expect(cutAfter).toBeLessThan(5_000);
    const victimCount = v.received.length;
    const otherPings = o.pings;
    await eventually("the other client keeps receiving", () => o.pings >= otherPings + 5, 10_000);
    expect(v.received.length).toBe(victimCount);
  });

  it("drops 1,000 malformed frames and keeps serving everyone else", async () => {
    const metricsPort = await freePort();
    const s = await server({ metricsPort, metricsBind: "127.0.0.1" });
    const attacker = await registered();
    const { listener } = s.endpoints();
    const curve = {
      curveServerKey: keys.server.publicKey,
      curvePublicKey: attacker.keyPair.publicKey,
      curveSecretKey: attacker.keyPair.secretKey,
      linger: 0,
    };
    const named = new zmq.Dealer({ ...curve, routingId: attacker.name });
    const anonymous = new zmq.Dealer(curve); // libzmq picks a binary routing id: not a client name
    sockets.push(named, anonymous);
    named.connect(listener);
    anonymous.connect(listener);
    const garbage: (Buffer | Buffer[])[] = [
      Buffer.from("ping"),
      Buffer.from("ping  two-spaces"),
      Buffer.from([0xff, 0xfe, 0x00, 0x80]),
      Buffer.from("hello {not json"),
      Buffer.from('hello {"v":99,"name":"x","software":"t","lastRun":null}'),
      encodeHello({ clientName: "someone-else", software: "t", lastRun: null }),
      Buffer.from("system:abc checkin"),
      Buffer.alloc(0),
      [Buffer.from("ping"), Buffer.from("abc")],
      Buffer.from(`ping ${"x".repeat(500)}`),
    ];
    for (let i = 0; i < 900; i++) await named.send(garbage[i % garbage.length] as Buffer);
    for (let i = 0; i < 100; i++) await anonymous.send(encodePong("abcdef"));

    const metricsText = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    await eventually(
      "1,000 drops counted",
      async () => metricSum(await metricsText(), "osad2_malformed_messages_total") >= 1000,
    );
    expect(metricSum(await metricsText(), "osad2_malformed_messages_total")).toBe(1000);

    // A frame over the size limit: libzmq drops that connection; nobody else notices.
    await named.send(Buffer.alloc(100 * 1024, 0x41));

    const good = await registered();
    const g = connectClient(s, keys, good.name, good.keyPair);
    clients.push(g);
    await eventually(
      "good client online",
      async () => (await store.findClient(good.name))?.state === "online",
    );
    await scheduleAction(store, { serverIds: [good.serverId] });
    await eventually("good client served", () => g.checkins >= 1);
    // The attacker's name was never made online by garbage (its frames never decoded).
    expect((await store.findClient(attacker.name))?.state).toBe("offline");
    const health = await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).json();
    expect(health).toMatchObject({
      healthy: true,
      db: { ok: true },
      sockets: { publisher: true, listener: true },
    });
  });
});
