import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { scheduleAction } from "../src/testing/index.js";
import { connectClient, useServerHarness, type TestClient } from "./core-fixtures.js";

// Wire v3: one connection per osad2 client. Pings and checkins reach a v3 client over its own
// ROUTER connection (bound by its verified hello), seed-format and v2 clients over the PUB.

/** Server-side TCP connections (accepted on the given local ports) among this process's descriptors. */
async function acceptedDescriptors(ports: readonly number[]): Promise<number> {
  const inodes = new Set<string>();
  for (const file of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    const text = await fs.readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "01") continue; // ESTABLISHED only
      const local = Number.parseInt(f[1]?.split(":")[1] ?? "", 16);
      if (ports.includes(local)) inodes.add(f[9] as string);
    }
  }
  let count = 0;
  for (const fd of await fs.readdir("/proc/self/fd")) {
    const link = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined && inodes.has(inode)) count += 1;
  }
  return count;
}

describe("one connection per client (wire v3)", () => {
  const h = useServerHarness("sqlite");

  it("200 v3 clients: all online on one descriptor each, each gets exactly its own checkin", async () => {
    const s = await h.server({ pingInterval: 30, missedPings: 1000 });
    const N = 200;
    const systems: { name: string; serverId: number; client: TestClient }[] = [];
    for (let i = 0; i < N; i++) {
      const { name, serverId, keyPair } = await h.registered();
      const client = connectClient(s, h.keys, name, keyPair, { wireVersion: 3 });
      h.clients.push(client);
      systems.push({ name, serverId, client });
    }
    await waitFor("all online", async () => {
      const rows = (await h.db.query(
        "SELECT COUNT(*) AS n FROM rhnPushClient WHERE state_id = (SELECT id FROM rhnPushClientState WHERE label = 'online')",
      )) as { n: number }[];
      return Number(rows[0]?.n) === N;
    });
    const { publisherPort, listenerPort } = s.endpoints();
    // The server holds one descriptor per client (none on the PUB port): 200, not 400.
    expect(await acceptedDescriptors([listenerPort])).toBe(N);
    expect(await acceptedDescriptors([publisherPort])).toBe(0);

    await scheduleAction(h.store, { serverIds: systems.map((x) => x.serverId) });
    await waitFor("every checkin", () => systems.every((x) => x.client.checkins >= 1));
    for (const { name, client } of systems) {
      const checkins = client.received.flatMap((r) =>
        r.message.kind === "checkin" ? [r.message.clientName] : [],
      );
      expect(checkins).toEqual([name]);
    }
  });

  it("a v3 client whose connection is gone goes offline at the next ping, not after missed pings", async () => {
    // missed_pings 1000: only the failed send can take it offline within the test.
    const s = await h.server({ pingInterval: 0.2, missedPings: 1000 });
    const offline: string[] = [];
    s.on("offline", (e) => offline.push(e.clientName));
    const gone = await h.onlineClient(s, { wireVersion: 3 });
    const stays = await h.onlineClient(s, { wireVersion: 3 });
    await gone.client.close();
    await waitFor(
      "offline",
      async () => (await h.store.findClient(gone.name))?.state === "offline",
    );
    expect(offline).toEqual([gone.name]);
    expect((await h.store.findClient(stays.name))?.state).toBe("online");

    // Back on a new connection: online again, and work queued meanwhile reaches it.
    await scheduleAction(h.store, { serverIds: [gone.serverId] });
    const back = connectClient(s, h.keys, gone.name, gone.keyPair, { wireVersion: 3 });
    h.clients.push(back);
    await waitFor("catch-up checkin", () => back.checkins >= 1);
    expect((await h.store.findClient(gone.name))?.state).toBe("online");
  });

  it("seed-format, v2 and v3 clients on one server each get their own checkins and no other's", async () => {
    const s = await h.server({ allowUnsignedClients: true, pingInterval: 30, missedPings: 1000 });
    const seed = await h.onlineClient(s, { seedFormat: true });
    const v2 = await h.onlineClient(s);
    const v3 = await h.onlineClient(s, { wireVersion: 3 });
    const all = [seed, v2, v3];
    for (const x of all) await scheduleAction(h.store, { serverIds: [x.serverId] });
    await waitFor("every checkin", () => all.every((x) => x.client.checkins >= 1));
    for (const { name, client } of all) {
      const checkins = client.received.flatMap((r) =>
        r.message.kind === "checkin" ? [r.message.clientName] : [],
      );
      expect(checkins).toEqual([name]);
    }
    // A subscriber to everything on the PUB sees the seed and v2 systems' names, never the v3 one's.
    const watcher = await h.registered();
    const spy = connectClient(s, h.keys, watcher.name, watcher.keyPair, { subscribeAll: true });
    h.clients.push(spy);
    await waitFor("spy subscribed", () => spy.eventCount("handshake", "sub") >= 1);
    await waitFor(
      "spy online",
      async () => (await h.store.findClient(watcher.name))?.state === "online",
    );
    for (const x of all) await scheduleAction(h.store, { serverIds: [x.serverId] });
    await waitFor("second checkins", () => all.every((x) => x.client.checkins >= 2));
    await waitFor("spy saw the PUB checkins", () =>
      [seed.name, v2.name].every((n) =>
        spy.received.some((r) => r.message.kind === "checkin" && r.message.clientName === n),
      ),
    );
    expect(
      spy.received.some((r) => r.message.kind === "checkin" && r.message.clientName === v3.name),
    ).toBe(false);
  });

  it("a connection with a valid key but another system's name gets none of its checkins and cannot take over its binding", async () => {
    const s = await h.server({ pingInterval: 30, missedPings: 1000 });
    const victim = await h.onlineClient(s, { wireVersion: 3 });
    const attacker = await h.registered();
    // Its own allowed CURVE key, the victim's name, a shared key it guessed.
    const forger = connectClient(s, h.keys, victim.name, attacker.keyPair, {
      wireVersion: 3,
      sharedKey: "f".repeat(40),
    });
    h.clients.push(forger);
    await waitFor("forger refused", () => forger.replies.some((r) => r.kind === "unknown-client"));
    await scheduleAction(h.store, { serverIds: [victim.serverId] });
    await waitFor("victim's checkin", () => victim.client.checkins >= 1);
    // Another ping/checkin round trip to the forger's connection would show up by now: none.
    await scheduleAction(h.store, { serverIds: [victim.serverId] });
    await waitFor("victim's second checkin", () => victim.client.checkins >= 2);
    expect(forger.checkins).toBe(0);
    expect((await h.store.findClient(victim.name))?.state).toBe("online");
  });
});
