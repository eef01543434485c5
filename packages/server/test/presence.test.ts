import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "@osad2/service-kit";
import { OnlineClients } from "../src/presence/online-clients.js";
import { Presence, type PresenceSettings } from "../src/presence/presence.js";
import { FakePresenceReport, FakePresenceSink, FakePresenceStore, FakePublisher } from "./fakes.js";

const hello = { version: 1, clientName: "c1", software: "test", lastRun: null } as const;

// Presence with fakes of its interfaces (rhnPushClient in memory, a recording publisher, sink
// and report) on vitest's fake clock: no sockets, no database.
describe("Presence with fakes", () => {
  let presence: Presence | undefined;

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
  });

  afterEach(async () => {
    await presence?.stop();
    presence = undefined;
    vi.useRealTimers();
  });

  function setup(settings: Partial<PresenceSettings> = {}) {
    const store = new FakePresenceStore();
    const publisher = new FakePublisher();
    const online = new OnlineClients();
    const sink = new FakePresenceSink();
    const report = new FakePresenceReport();
    presence = new Presence({
      pingIntervalMs: 1_000,
      missedPings: 3,
      uiCheckIntervalMs: 500,
      uiPingTimeoutMs: 20_000,
      ...settings,
      store,
      publisher,
      online,
      sink,
      report,
      logger: silentLogger(),
    });
    return { store, publisher, online, sink, report, presence };
  }

  it("an answer makes an offline client online: the sink hears the contact, then that it is online", async () => {
    const { store, online, sink, report, presence } = setup();
    store.add("c1", "offline");
    presence.start();
    presence.pong("c1");
    expect(sink.contacts).toEqual([["c1", "pong"]]); // at once, before the write
    await vi.advanceTimersByTimeAsync(0);
    expect(store.row("c1").state).toBe("online");
    expect(store.row("c1").lastMessageTime).not.toBeNull();
    expect(online.isOnline("c1")).toBe(true);
    expect(sink.onlines).toEqual([["c1", true]]);
    expect(report.cameOnlines).toEqual(["c1"]);
    presence.hello("c1", hello);
    expect(sink.contacts).toEqual([
      ["c1", "pong"],
      ["c1", "hello"],
    ]);
  });

  it("writes one markOnline per client per ping round, however many answers come", async () => {
    const { store, presence } = setup();
    store.add("c1", "online");
    presence.start();
    await vi.advanceTimersByTimeAsync(0);
    presence.pong("c1");
    presence.hello("c1", hello);
    presence.pong("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.writes).toEqual(["c1"]);
    await vi.advanceTimersByTimeAsync(1_000); // the next ping round
    presence.pong("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.writes).toEqual(["c1", "c1"]);
  });

  it("sends a ping every ping_interval; a client that misses missed_pings of them goes offline", async () => {
    const { store, publisher, online, sink, report, presence } = setup({ missedPings: 3 });
    store.add("silent", "online");
    store.add("talker", "online");
    await presence.refresh();
    presence.start();
    const answerEachPing = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        presence.pong("talker");
        await vi.advanceTimersByTimeAsync(1_000);
      }
    };
    await answerEachPing(2);
    expect(publisher.pings).toBe(3);
    expect(store.row("silent").state).toBe("online");
    await answerEachPing(1); // the third unanswered ping
    expect(store.row("silent").state).toBe("offline");
    expect(store.row("talker").state).toBe("online");
    expect(online.isOnline("silent")).toBe(false);
    expect(online.isOnline("talker")).toBe(true);
    expect(sink.offlines).toEqual([["silent"]]);
    expect(report.wentOfflines).toEqual(["silent"]);
  });

  it("serves the web UI ping: deadline first, then a ping; the answer clears both times", async () => {
    const { store, publisher, presence } = setup({ pingIntervalMs: 60_000 });
    store.add("c1", "online");
    presence.start();
    await vi.advanceTimersByTimeAsync(0);
    const pings = publisher.pings;
    store.requestPing("c1");
    await vi.advanceTimersByTimeAsync(500);
    expect(publisher.pings).toBe(pings + 1);
    expect(store.row("c1").nextActionTime?.getTime()).toBe(Date.now() + 20_000);
    presence.pong("c1"); // answered already this round, but a web-UI ping must be written
    await vi.advanceTimersByTimeAsync(0);
    expect(store.row("c1")).toMatchObject({
      state: "online",
      lastPingTime: null,
      nextActionTime: null,
    });
  });

  it("takes a client that misses the web UI ping deadline offline, keeping last_ping_time", async () => {
    const { store, sink, report, presence } = setup({
      pingIntervalMs: 60_000,
      missedPings: 1_000,
      uiPingTimeoutMs: 2_000,
    });
    store.add("c1", "online");
    presence.start();
    await vi.advanceTimersByTimeAsync(0);
    store.requestPing("c1");
    await vi.advanceTimersByTimeAsync(500);
    const deadline = store.row("c1").nextActionTime?.getTime() ?? 0;
    await vi.advanceTimersByTimeAsync(deadline - Date.now() - 1);
    expect(store.row("c1").state).toBe("online");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(store.row("c1").state).toBe("offline");
    expect(store.row("c1").lastPingTime).not.toBeNull();
    expect(sink.offlines).toEqual([["c1"]]);
    expect(report.wentOfflines).toEqual(["c1"]);
  });

  it("reports a failed write and retries it on the client's next answer", async () => {
    const { store, report, presence } = setup();
    store.add("c1", "offline");
    const markOnline = store.markOnline.bind(store);
    let fail = true;
    store.markOnline = async (name, at) => {
      if (fail) {
        fail = false;
        throw new Error("database away");
      }
      return markOnline(name, at);
    };
    presence.start();
    presence.pong("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(report.failures).toHaveLength(1);
    expect(store.row("c1").state).toBe("offline");
    presence.pong("c1"); // same round: the failed write does not count
    await vi.advanceTimersByTimeAsync(0);
    expect(store.row("c1").state).toBe("online");
  });
});
