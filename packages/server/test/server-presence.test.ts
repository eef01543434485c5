import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ManagedClientsFileError } from "../src/presence/managed-file.js";
import { createSystem, scheduleAction } from "../src/testing/index.js";
import { waitFor } from "@osad2/test-helpers";
import { connectClient, useServerHarness } from "./core-fixtures.js";

describe("presence in rhnPushClient (SQLite)", () => {
  const h = useServerHarness("sqlite");

  it("a seed-style client that only answers pings goes online with last_message_time set", async () => {
    const s = await h.server();
    const online: string[] = [];
    s.on("online", (e) => online.push(e.clientName));
    const { name, keyPair } = await h.registered();
    const before = Date.now();
    h.clients.push(connectClient(s, h.keys, name, keyPair, { hello: false }));
    await waitFor("online", async () => (await h.store.findClient(name))?.state === "online");
    const row = await h.store.findClient(name);
    expect(row?.lastMessageTime?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(online).toEqual([name]);
  });

  it("goes offline after missed_pings unanswered pings, and back online with a catch-up checkin", async () => {
    const s = await h.server({ missedPings: 3, pingInterval: 0.2 });
    const offline: string[] = [];
    s.on("offline", (e) => offline.push(e.clientName));
    const { name, serverId, keyPair } = await h.registered();
    const silent = connectClient(s, h.keys, name, keyPair);
    h.clients.push(silent);
    await waitFor("online", async () => (await h.store.findClient(name))?.state === "online");
    // Taken before closing: a slow close must not shorten the measured silence.
    const gone = Date.now();
    await silent.close();
    await waitFor("offline", async () => (await h.store.findClient(name))?.state === "offline");
    // Three pings at 200 ms: not before ~0.4 s, well within a few intervals.
    expect(Date.now() - gone).toBeGreaterThanOrEqual(300);
    expect(offline).toEqual([name]);

    // Work queued while it was away is announced the moment it comes back.
    await scheduleAction(h.store, { serverIds: [serverId] });
    const back = connectClient(s, h.keys, name, keyPair, { hello: false });
    h.clients.push(back);
    await waitFor("catch-up checkin", () => back.checkins >= 1);
    expect((await h.store.findClient(name))?.state).toBe("online");
  });

  it("serves the web UI ping at once: the ping's answer clears last_ping_time and next_action_time", async () => {
    // Regular pings 30 s apart: within the test only the web-UI ping can get an answer written.
    const s = await h.server({ missedPings: 1000, pingInterval: 30 });
    const { name, keyPair } = await h.registered();
    const client = connectClient(s, h.keys, name, keyPair);
    h.clients.push(client);
    await waitFor("online", async () => (await h.store.findClient(name))?.state === "online");
    // What Spacewalk's system.sendOsaPing does.
    await h.db.query(
      "UPDATE rhnPushClient SET last_ping_time = ?, next_action_time = NULL WHERE name = ?",
      [new Date().toISOString(), name],
    );
    const pings = client.pings;
    await waitFor("answered and cleared", async () => {
      const row = await h.store.findClient(name);
      return row?.state === "online" && row.lastPingTime === null && row.nextActionTime === null;
    });
    expect(client.pings).toBe(pings + 1);
  });

  it("marks a client that misses the web UI ping deadline offline", async () => {
    // missed_pings out of the way: only the UI deadline (shortened to 600 ms) can take it offline.
    const s = await h.server({ missedPings: 1000 }, { uiPingTimeoutMs: 600 });
    const offline: string[] = [];
    s.on("offline", (e) => offline.push(e.clientName));
    const { name, keyPair } = await h.registered();
    const client = connectClient(s, h.keys, name, keyPair);
    h.clients.push(client);
    await waitFor("online", async () => (await h.store.findClient(name))?.state === "online");
    await client.close();
    const requested = new Date();
    await h.db.query(
      "UPDATE rhnPushClient SET last_ping_time = ?, next_action_time = NULL WHERE name = ?",
      [requested.toISOString(), name],
    );
    await waitFor(
      "deadline set",
      async () => (await h.store.findClient(name))?.nextActionTime !== null,
    );
    const row = await h.store.findClient(name);
    const deadline = row?.nextActionTime?.getTime() ?? 0;
    expect(deadline - requested.getTime()).toBeGreaterThanOrEqual(500);
    expect(row?.state).toBe("online");
    await waitFor(
      "offline past the deadline",
      async () => (await h.store.findClient(name))?.state === "offline",
    );
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    // osa-dispatcher's "unavailable": both ping times cleared.
    expect(await h.store.findClient(name)).toMatchObject({
      lastPingTime: null,
      nextActionTime: null,
    });
    expect(offline).toEqual([name]);
  });

  it("mixed fleet: a row osa-dispatcher set online stays as it is through 20 rounds while the server's own client comes and goes", async () => {
    const { system } = await createSystem(h.store, { name: "classic-host" });
    await h.store.registerPushClient(system.id, { name: "classic", sharedKey: "c".repeat(40) });
    await h.store.registerPushClientJid(system.id, "osad@classic-host/osad");
    // osa-dispatcher's statement for a signed message received.
    await h.db.query(
      `UPDATE rhnPushClient SET state_id = (SELECT id FROM rhnPushClientState WHERE label = 'online'),
              last_message_time = ?, last_ping_time = NULL, next_action_time = NULL
        WHERE jabber_id = ?`,
      [new Date().toISOString(), "osad@classic-host/osad"],
    );
    const classic = await h.db.query("SELECT * FROM rhnpushclient WHERE name = 'classic'");
    const s = await h.server({ missedPings: 2, pingInterval: 0.1 });
    const { name, keyPair } = await h.registered();
    for (let i = 0; i < 3; i++) {
      const own = connectClient(s, h.keys, name, keyPair);
      h.clients.push(own);
      await waitFor("own online", async () => (await h.store.findClient(name))?.state === "online");
      await waitFor("8 pings", () => own.pings >= 8);
      await own.close();
      await waitFor(
        "own reaped",
        async () => (await h.store.findClient(name))?.state === "offline",
      );
    }
    expect(await h.db.query("SELECT * FROM rhnpushclient WHERE name = 'classic'")).toEqual(classic);
  });

  it("refuses to start on a corrupt managed-clients file, naming it, and leaves it as it was", async () => {
    const file = path.join(h.keys.root, "state", "managed-clients.json");
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '{"version":1,"clients":["ok",');
    const error = await h.server().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManagedClientsFileError);
    expect((error as Error).message).toContain(file);
    expect(await fs.readFile(file, "utf8")).toBe('{"version":1,"clients":["ok",');
  });
});
