import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Notifier, type NotifierSettings } from "../src/dispatch/notifier.js";
import { Reachability } from "../src/dispatch/reachability.js";
import { UnknownClientError } from "../src/errors.js";
import { OnlineClients } from "../src/presence/online-clients.js";
import { dueAction, fakeNotifier } from "./fakes.js";

// The notifier with fakes of its interfaces (store, publisher, presence's online set, report)
// on vitest's fake clock: no sockets, no database.
describe("Notifier (dispatch) with fakes", () => {
  let notifier: Notifier | undefined;

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
  });

  afterEach(async () => {
    await notifier?.stop();
    notifier = undefined;
    vi.useRealTimers();
  });

  function setup(settings: Partial<NotifierSettings> = {}) {
    const harness = fakeNotifier({ ...settings });
    notifier = harness.notifier;
    return harness;
  }

  it("announces a due action once, not on every poll", async () => {
    const { store, publisher, report, notifier, reachable } = setup({ pollIntervalMs: 1_000 });
    store.due = [dueAction(1, 10, "c1"), dueAction(1, 11, "c1")];
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1"]);
    expect(report.events).toEqual([{ clientName: "c1", serverId: 1, actionIds: [10, 11] }]);
    expect(report.firstTime).toEqual([[10, 11]]);
    const rounds = store.rounds;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.rounds - rounds).toBeGreaterThanOrEqual(10);
    expect(publisher.checkins).toEqual(["c1"]);
  });

  it("re-announces a still-due action after renotify_interval, not before", async () => {
    const { store, publisher, report, notifier, reachable } = setup({
      renotifyMs: 1_000,
      pollIntervalMs: 60_000,
    });
    store.due = [dueAction(1, 10, "c1")];
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(999);
    expect(publisher.checkins).toEqual(["c1"]);
    await vi.advanceTimersByTimeAsync(10);
    expect(publisher.checkins).toEqual(["c1", "c1"]);
    const [first, second] = publisher.sent.map((s) => s.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(1_000);
    // A re-announcement is not a first announcement (latency histogram).
    expect(report.firstTime).toEqual([[10], []]);
  });

  it("throttles to notify_threshold systems asked and not done; the next follows when one is done", async () => {
    const { store, publisher, report, notifier, reachable } = setup({
      threshold: 1,
      pollIntervalMs: 1_000,
    });
    store.due = [dueAction(1, 10, "c1"), dueAction(2, 10, "c2")];
    reachable("c1");
    reachable("c2");
    notifier.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(publisher.checkins).toEqual(["c1"]);
    expect(notifier.inFlight).toBe(1);
    store.due = [dueAction(2, 10, "c2")]; // system 1 completed its action
    await vi.advanceTimersByTimeAsync(1_000);
    expect(publisher.checkins).toEqual(["c1", "c2"]);
    expect(report.events.map((e) => e.serverId)).toEqual([1, 2]);
  });

  it("counts systems with picked-up actions against notify_threshold, as osa-dispatcher does", async () => {
    const { store, publisher, notifier, reachable } = setup({
      threshold: 2,
      pollIntervalMs: 1_000,
    });
    // Two other systems are running actions (picked up by rhnsd, not by us): no slot is free.
    store.running.add(7).add(8);
    store.due = [dueAction(1, 10, "c1"), dueAction(2, 10, "c2"), dueAction(3, 10, "c3")];
    for (const name of ["c1", "c2", "c3"]) reachable(name);
    notifier.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(publisher.checkins).toEqual([]);
    store.running.delete(7); // one finished: free = 2 - 1
    await vi.advanceTimersByTimeAsync(1_000);
    expect(publisher.checkins).toEqual(["c1"]);
    // c1's rhn_check picks its action up: it leaves the queued list and shows as running; its
    // slot stays taken until the action completes.
    store.due = store.due.filter((d) => d.serverId !== 1);
    store.running.add(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(publisher.checkins).toEqual(["c1"]);
    store.running.delete(1); // completed
    store.running.delete(8);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(publisher.checkins).toEqual(["c1", "c2", "c3"]);
  });

  it("re-announces a running system without taking another slot", async () => {
    const { store, publisher, notifier, reachable } = setup({
      threshold: 1,
      pollIntervalMs: 1_000,
      renotifyMs: 2_000,
      includePickedUp: true,
    });
    store.due = [{ ...dueAction(1, 10, "c1"), status: 1 }, dueAction(2, 10, "c2")];
    store.running.add(1);
    reachable("c1");
    reachable("c2");
    notifier.start();
    await vi.advanceTimersByTimeAsync(2_500);
    // Picked-up work is announced again (status in (0, 1)); c2 waits for the one slot.
    expect(publisher.checkins).toEqual(["c1", "c1"]);
  });

  it("after a restart addresses nobody it has not heard from; a first pong gets the due work at once", async () => {
    const { store, publisher, online, notifier } = setup({ pollIntervalMs: 1_000 });
    store.due = [dueAction(1, 10, "c1")];
    online.add("c1"); // rhnPushClient still says online from before the restart
    notifier.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(publisher.checkins).toEqual([]);
    notifier.contact("c1", "pong");
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1"]);
  });

  it("after a hello waits out the grace (the subscription is unproven), then catches up", async () => {
    const { store, publisher, online, notifier, reachable } = setup({ pollIntervalMs: 60_000 });
    store.due = [dueAction(1, 10, "c1")];
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1"]);
    // The client reconnects: announced 1 s ago, well within renotify_interval, but it may
    // have missed that message while away.
    await vi.advanceTimersByTimeAsync(1_000);
    notifier.contact("c1", "hello");
    await vi.advanceTimersByTimeAsync(249);
    expect(publisher.checkins).toEqual(["c1"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(publisher.checkins).toEqual(["c1", "c1"]);
    // Once: the catch-up is spent.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(publisher.checkins).toEqual(["c1", "c1"]);

    // A new client heard only by hello: not addressed before the grace either.
    store.due.push(dueAction(2, 10, "c2"));
    online.add("c2");
    notifier.contact("c2", "hello");
    notifier.wake();
    await vi.advanceTimersByTimeAsync(100);
    expect(publisher.checkins).toEqual(["c1", "c1"]);
    await vi.advanceTimersByTimeAsync(150);
    expect(publisher.checkins).toEqual(["c1", "c1", "c2"]);
  });

  it("after the sockets were replaced, a reconnecting hello catches up even within renotify_interval", async () => {
    const { store, publisher, online, notifier } = setup({ pollIntervalMs: 60_000 });
    online.add("c1");
    notifier.contact("c1", "hello");
    await vi.advanceTimersByTimeAsync(250);
    notifier.start();
    await vi.advanceTimersByTimeAsync(1_000);
    // A revocation re-binds: every connection is cut. Work scheduled now is not published
    // into the void, and the client's hello, 2 s after its last one, still catches it up.
    notifier.connectionsReplaced();
    store.due = [dueAction(1, 10, "c1")];
    notifier.wake();
    await vi.advanceTimersByTimeAsync(500);
    expect(publisher.checkins).toEqual([]);
    notifier.contact("c1", "hello");
    await vi.advanceTimersByTimeAsync(250);
    expect(publisher.checkins).toEqual(["c1"]);
    // Without a re-bind the limit holds: another hello re-announces nothing.
    notifier.contact("c1", "hello");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(publisher.checkins).toEqual(["c1"]);
  });

  it("keeps a catch-up until presence has the client online", async () => {
    const { store, publisher, online, notifier } = setup({ pollIntervalMs: 60_000 });
    store.due = [dueAction(1, 10, "c1")];
    notifier.start();
    notifier.contact("c1", "hello"); // its markOnline write is still in flight
    await vi.advanceTimersByTimeAsync(1_000);
    expect(publisher.checkins).toEqual([]);
    online.add("c1");
    notifier.online("c1", true);
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1"]);
  });

  it("re-announces to a proven client that rhnPushClient had offline; forgets clients that went offline", async () => {
    const { store, publisher, online, notifier, reachable } = setup({ pollIntervalMs: 60_000 });
    store.due = [dueAction(1, 10, "c1")];
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(1_000);
    notifier.online("c1", true);
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1", "c1"]);

    notifier.offline(["c1"]);
    online.delete("c1");
    online.add("c1"); // back online in the database (another writer), but not heard from
    notifier.online("c1", false);
    notifier.wake();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(publisher.checkins).toEqual(["c1", "c1"]);
    notifier.contact("c1", "pong");
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1", "c1", "c1"]);
  });

  it("backs off after failed rounds (0.5 s, 1 s, …) and clients do not hammer the database meanwhile", async () => {
    const { store, publisher, report, notifier, reachable } = setup({ pollIntervalMs: 60_000 });
    store.due = [dueAction(1, 10, "c1")];
    store.failures = 2;
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(report.failures).toHaveLength(1);
    notifier.contact("c2", "pong"); // would wake a round, but not during the back-off
    await vi.advanceTimersByTimeAsync(499);
    expect(store.rounds).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(report.failures).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(publisher.checkins).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(publisher.checkins).toEqual(["c1"]);
    expect(store.rounds).toBe(3);
  });

  it("expedite() makes remembered announcements due again after the given delay", async () => {
    const { store, publisher, notifier, reachable } = setup({ pollIntervalMs: 60_000 });
    store.due = [dueAction(1, 10, "c1")];
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    notifier.expedite(3_000);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(publisher.checkins).toEqual(["c1"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(publisher.checkins).toEqual(["c1", "c1"]);
  });

  it("notify() publishes at once by client name, outside the rules; unknown names are an error", async () => {
    const { store, publisher, notifier } = setup();
    store.clients.set("c9", {
      id: 1,
      name: "c9",
      serverId: 9,
      state: "offline",
      lastMessageTime: null,
      lastPingTime: null,
      nextActionTime: null,
    });
    notifier.start();
    await expect(notifier.notify("c9")).resolves.toEqual({
      published: true,
      clientName: "c9",
      serverId: 9,
      actionIds: [],
    });
    expect(publisher.checkins).toEqual(["c9"]);
    await expect(notifier.notify("nobodyhere")).rejects.toBeInstanceOf(UnknownClientError);
    await expect(notifier.notify(42)).resolves.toMatchObject({ published: false });
  });
});

describe("Reachability", () => {
  it("hands out a catch-up once it is due and the client reachable; each reconnect gets its own", () => {
    const online = new OnlineClients();
    online.add("c1");
    const reach = new Reachability({ helloGraceMs: 250, renotifyMs: 60_000 }, online);
    reach.pong("c1", 0); // first contact: announced before 0 counts as missed, due at once
    expect(reach.takeCatchUps(0)).toEqual(new Map([["c1", 0]]));
    expect(reach.takeCatchUps(0)).toEqual(new Map());
    reach.hello("c1", 100); // reconnected: due after the grace
    expect(reach.isReachable("c1", 100)).toBe(false);
    expect(reach.nextCatchUpAt(100)).toBe(350);
    expect(reach.takeCatchUps(349)).toEqual(new Map());
    expect(reach.takeCatchUps(350)).toEqual(new Map([["c1", 100]]));
    expect(reach.nextCatchUpAt(350)).toBeUndefined();
    expect(reach.isReachable("c1", 350)).toBe(true);
  });

  it("forgets clients that spoke but never came online (bounded memory)", () => {
    const online = new OnlineClients();
    const reach = new Reachability({ helloGraceMs: 250, renotifyMs: 60_000 }, online);
    reach.hello("ghost", 0);
    expect(reach.nextCatchUpAt(0)).toBe(250);
    reach.takeCatchUps(10 * 60_000 + 1);
    expect(reach.nextCatchUpAt(0)).toBeUndefined();
    online.add("ghost");
    expect(reach.isReachable("ghost", 10 * 60_000 + 1)).toBe(false);
  });
});
