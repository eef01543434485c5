import { describe, expect, it } from "vitest";
import { scheduleAction, setServerActionStatus } from "../src/testing/index.js";
import type { NotifiedEvent } from "../src/dispatch/ports.js";
import { waitFor } from "@osad2/test-helpers";
import { connectClient, useServerHarness } from "./core-fixtures.js";

// Notification rules on an embedded SQLite database (PostgreSQL: server-postgres.test.ts).
describe("notifier over real CURVE sockets (SQLite)", () => {
  const h = useServerHarness("sqlite");

  it("publishes system:<name> checkin to an online client when an action is queued", async () => {
    const s = await h.server();
    const events: NotifiedEvent[] = [];
    s.on("notified", (e) => events.push(e));
    const { name, serverId, client } = await h.onlineClient(s);
    const actionId = await scheduleAction(h.store, { serverIds: [serverId] });
    await waitFor("checkin received", () => client.checkins >= 1);
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
    await waitFor("first checkin", () => client.checkins === 1);
    // Ten more polls go by (a poll every 100 ms): still one announcement.
    const pingsBefore = client.pings;
    await waitFor("ten pings later", () => client.pings >= pingsBefore + 5);
    expect(client.checkins).toBe(1);
    expect(rounds).toBe(1);
  });

  it("wakes up at a future earliest_action by its own timer, not on the next poll", async () => {
    const { name, serverId, keyPair } = await h.registered();
    const earliest = new Date(Date.now() + 2_000);
    await scheduleAction(h.store, { serverIds: [serverId], earliest });
    // The next poll is an hour away: only the exact wake-up timer set by the first round
    // can deliver within the test (tools/bench measures how close to earliest_action).
    const pollMs = 3_600_000;
    const started = Date.now();
    const s = await h.server({ actionPollInterval: pollMs / 1000 });
    const client = connectClient(s, h.keys, name, keyPair);
    h.clients.push(client);
    await waitFor("checkin at earliest_action", () => client.checkins >= 1);
    const at = client.received.find((r) => r.message.kind === "checkin")?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(earliest.getTime() - 5);
    expect(at - started).toBeLessThan(pollMs);
  });

  it("holds an action until its prerequisite is completed for that server", async () => {
    const s = await h.server({ actionPollInterval: 0.1 });
    const events: NotifiedEvent[] = [];
    s.on("notified", (e) => events.push(e));
    const { serverId, client } = await h.onlineClient(s);
    const first = await scheduleAction(h.store, { serverIds: [serverId] });
    const second = await scheduleAction(h.store, { serverIds: [serverId], prerequisite: first });
    await waitFor("first announced", () => events.some((e) => e.actionIds.includes(first)));
    expect(events.flatMap((e) => e.actionIds)).not.toContain(second);
    await setServerActionStatus(h.store, { serverId, actionId: first, status: 1 });
    const pings = client.pings;
    await waitFor("a few polls", () => client.pings >= pings + 3);
    expect(events.flatMap((e) => e.actionIds)).not.toContain(second);
    await setServerActionStatus(h.store, { serverId, actionId: first, status: 2 });
    await waitFor("second announced", () => events.some((e) => e.actionIds.includes(second)));
  });

  it("re-announces an action still queued after renotify_interval", async () => {
    // The server's own clock for each announcement: the `now` its round queried due work with
    // (arrival times at the client would carry the load's delays into the gap).
    let roundNow = 0;
    const store = new Proxy(h.store, {
      get(target, property, receiver) {
        if (property === "dueActions") {
          return (now: Date, options: { readonly includePickedUp: boolean }) => {
            roundNow = now.getTime();
            return target.dueActions(now, options);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const s = await h.server({ renotifyInterval: 0.5, actionPollInterval: 30 }, { store });
    const announced: number[] = [];
    s.on("notified", () => announced.push(roundNow));
    const { serverId, client } = await h.onlineClient(s);
    await scheduleAction(h.store, { serverIds: [serverId] });
    await s.notify(serverId);
    await waitFor("re-announced twice", () => client.checkins >= 3 && announced.length >= 3);
    // At most one per renotify interval, not on every poll.
    expect((announced[2] as number) - (announced[1] as number)).toBeGreaterThanOrEqual(500);
  });
});
