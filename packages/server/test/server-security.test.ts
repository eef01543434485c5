import * as zmq from "zeromq";
import { afterEach, describe, expect, it } from "vitest";
import { encodeHello, encodePong } from "@osad2/protocol";
import { scheduleAction } from "../src/testing/index.js";
import type { AuthFailureEvent } from "../src/telemetry/events.js";
import { freePort, waitFor } from "@osad2/test-helpers";
import { connectClient, metricSum, useServerHarness } from "./core-fixtures.js";

describe("CURVE, ZAP allow-list, revocation and hostile input (SQLite)", () => {
  const h = useServerHarness("sqlite");
  const sockets: zmq.Socket[] = [];

  // Registered after the harness hooks, so it runs before them: raw sockets close first.
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  it("delivers nothing to a client whose key is not in public_keys/, and reports the refusal", async () => {
    const s = await h.server();
    const failures: AuthFailureEvent[] = [];
    s.on("auth-failure", (e) => failures.push(e));
    const good = await h.registered();
    const stranger = await h.registered(false);
    const a = connectClient(s, h.keys, good.name, good.keyPair);
    const u = connectClient(s, h.keys, stranger.name, stranger.keyPair);
    h.clients.push(a, u);
    await scheduleAction(h.store, { serverIds: [good.serverId, stranger.serverId] });
    await waitFor(
      "stranger refused on both sockets",
      () => u.eventCount("handshake:error:auth") >= 2,
    );
    await waitFor("good client served", () => a.checkins >= 1);
    const pings = a.pings;
    await waitFor("three more pings to the good client", () => a.pings >= pings + 3);
    expect(u.received).toHaveLength(0);
    expect((await h.store.findClient(stranger.name))?.state).toBe("offline");
    expect(
      failures.some((f) => f.publicKey === stranger.keyPair.publicKey && f.address === "127.0.0.1"),
    ).toBe(true);
    expect(failures.every((f) => f.reason === "unknown-key")).toBe(true);
  });

  it("cuts a connected client off within 5 s of its key being revoked; others carry on", async () => {
    const s = await h.server({ pingInterval: 0.2 });
    const victim = await h.registered();
    const other = await h.registered();
    const v = connectClient(s, h.keys, victim.name, victim.keyPair);
    const o = connectClient(s, h.keys, other.name, other.keyPair);
    h.clients.push(v, o);
    await waitFor("both receive pings", () => v.pings >= 2 && o.pings >= 2);
    const revokedAt = Date.now();
    await h.keys.revoke(victim.name);
    await waitFor(
      "victim refused on reconnect",
      () => v.eventCount("handshake:error:auth", "sub") >= 1,
      { timeoutMs: 5_000 },
    );
    const cutAfter = Math.max(...v.received.map((r) => r.at)) - revokedAt;
    expect(cutAfter).toBeLessThan(5_000);
    const victimCount = v.received.length;
    const otherPings = o.pings;
    await waitFor("the other client keeps receiving", () => o.pings >= otherPings + 5);
    expect(v.received.length).toBe(victimCount);
  });

  it("drops 1,000 malformed frames and keeps serving everyone else", async () => {
    const metricsPort = await freePort();
    const s = await h.server({ metricsPort, metricsBind: "127.0.0.1" });
    const attacker = await h.registered();
    const { listener } = s.endpoints();
    const curve = {
      curveServerKey: h.keys.server.publicKey,
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
    // The unsigned hello (90 of the named garbage) and the 100 unsigned pongs decode, so they
    // are refused (allow_unsigned_clients = 0) rather than malformed; every one is counted.
    const dropped = async () => {
      const text = await metricsText();
      return {
        malformed: metricSum(text, "osad2_malformed_messages_total"),
        refused: metricSum(text, "osad2_refused_messages_total"),
      };
    };
    await waitFor("1,000 drops counted", async () => {
      const { malformed, refused } = await dropped();
      return malformed + refused >= 1000;
    });
    expect(await dropped()).toEqual({ malformed: 810, refused: 190 });

    // A frame over the size limit: libzmq drops that connection; nobody else notices.
    await named.send(Buffer.alloc(100 * 1024, 0x41));

    const good = await h.registered();
    const g = connectClient(s, h.keys, good.name, good.keyPair);
    h.clients.push(g);
    await waitFor(
      "good client online",
      async () => (await h.store.findClient(good.name))?.state === "online",
    );
    await scheduleAction(h.store, { serverIds: [good.serverId] });
    await waitFor("good client served", () => g.checkins >= 1);
    // The attacker's name was never made online by garbage (its frames never decoded).
    expect((await h.store.findClient(attacker.name))?.state).toBe("offline");
    const health = await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).json();
    expect(health).toMatchObject({
      healthy: true,
      db: { ok: true },
      sockets: { publisher: true, listener: true },
    });
  });
});
