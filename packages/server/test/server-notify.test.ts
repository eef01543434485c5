import { describe, expect, it } from "vitest";
import { scheduleAction, setServerActionStatus } from "../src/testing/index.js";
import type { NotifiedEvent } from "../src/dispatch/ports.js";
import { connectClient, eventually, useServerHarness } from "./core-fixtures.js";

// Notification rules on an embedded SQLite database (PostgreSQL: server-postgres.test.ts).
describe("notifier over real CURVE sockets (SQLite)", () => {
  const h = useServerHarness("sqlite");

  it("publishes system:<name> checkin to an online client when an action is queued", async () => {
    const s = await h.server();
    const events: NotifiedEvent[] = [];
    s.on("notified", (e) => events.push(e));
    const { name, serverId, client } = await h.onlineClient(s);
    const actionId = await scheduleAction(h.store, { serverIds: [serverId] });
    await eventually("checkin received", () => client.checkins >= 1);
    const checkin = client.received.find((r) => r.message.kind === "checkin");
    expect(checkin?.message).toEqual({ kind: "checkin", clientName: name });
    expect(events).toContainEqual({ clientName: name, serverId, actionIds: [actionId] });
  });

  it("announces each due action once, not on every poll", async () => {
    const s = await h.server({ actionPollInterval: 0.1 });
    let rounds = 0;
    s.on("notified", () => (rounds += 1));
    const { serverId, client } = await h.onlineClient(s);
    await scheduleAction(h.store, { serverIds: [serverId] });
    await eventually("first checkin", () => client.checkins === 1);
    // Ten more polls go by (a poll every 100 ms): still one announcement.
    const pingsBefore = client.pings;
    await eventually("ten pings later", () => client.pings >= pingsBefore + 5);
    expect(client.checkins).toBe(1);
    expect(rounds).toBe(1);
  });

  it("wakes up at a future earliest_action, within 1 s of it (not on the next poll)", async () => {
    const { name, serverId, keyPair } = await h.registered();
    const earliest = new Date(Date.now() + 2_000);
    await scheduleAction(h.store, { serverIds: [serverId], earliest });
    // Poll every 30 s: only the exact wake-up timer set by the first round can meet the bound.
    const s = await h.server({ actionPollInterval: 30 });
    const client = connectClient(s, h.keys, name, keyPair);
    h.clients.push(client);
    await eventually("checkin at earliest_action", () => client.checkins >= 1, 5_000);
    const at = client.received.find((r) => r.message.kind === "checkin")?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(earliest.getTime() - 5);
    expect(at - earliest.getTime()).toBeLessThan(1_000);
  });

  it("holds an action until its prerequisite is completed for that server", async () => {
    const s = await h.server({ actionPollInterval: 0.1 });
    const events: NotifiedEvent[] = [];
    s.on("notified", (e) => events.push(e));
    const { serverId, client } = await h.onlineClient(s);
    const first = await scheduleAction(h.store, { serverIds: [serverId] });
    const second = await scheduleAction(h.store, { serverIds: [serverId], prerequisite: first });
    await eventually("first announced", () => events.some((e) => e.actionIds.includes(first)));
    expect(events.flatMap((e) => e.actionIds)).not.toContain(second);
    await setServerActionStatus(h.store, { serverId, actionId: first, status: 1 });
    const pings = client.pings;
    await eventually("a few polls", () => client.pings >= pings + 3);
    expect(events.flatMap((e) => e.actionIds)).not.toContain(second);
    await setServerActionStatus(h.store, { serverId, actionId: first, status: 2 });
    await eventually("second announced", () => events.some((e) => e.actionIds.includes(second)));
  });

  it("re-announces an action still queued after renotify_interval", async () => {
    const s = await h.server({ renotifyInterval: 0.5, actionPollInterval: 30 });
    const { serverId, client } = await h.onlineClient(s);
    await scheduleAction(h.store, { serverIds: [serverId] });
    await s.notify(serverId);
    await eventually("re-announced twice", () => client.checkins >= 3, 5_000);
    const times = client.received.filter((r) => r.message.kind === "checkin").map((r) => r.at);
    // At most one per renotify interval (with slack for timers), not on every poll.
    expect((times[2] as number) - (times[1] as number)).toBeGreaterThanOrEqual(400);
  });
});
