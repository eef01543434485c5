import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "@osad2/service-kit";
import { ManagedClients } from "../src/presence/managed-clients.js";
import { OnlineClients } from "../src/presence/online-clients.js";
import { Presence, type PresenceSettings } from "../src/presence/presence.js";
import {
  FakePresenceReport,
  FakePresenceSink,
  FakePresenceStore,
  FakePublisher,
  MemoryManagedFile,
} from "./fakes.js";

const hello = { version: 1, clientName: "c1", software: "test", lastRun: null } as const;

// Presence with fakes of its interfaces (rhnPushClient in memory, the managed-clients file in
// memory, a recording publisher, sink and report) on vitest's fake clock: no sockets, no database.
describe("Presence with fakes", () => {
  const running: Presence[] = [];

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
  });

  afterEach(async () => {
    for (const presence of running.splice(0)) await presence.stop();
    vi.useRealTimers();
  });

  interface Setup {
    readonly store?: FakePresenceStore;
    readonly file?: MemoryManagedFile;
    /** Names the managed-clients file lists at start. */
    readonly managed?: readonly string[];
  }

  async function setup(settings: Partial<PresenceSettings> = {}, parts: Setup = {}) {
    const store = parts.store ?? new FakePresenceStore();
    const file = parts.file ?? new MemoryManagedFile(parts.managed ?? []);
    const saveFailures: unknown[] = [];
    const managed = await ManagedClients.open({
      file,
      store,
      saveFailed: (error) => saveFailures.push(error),
    });
    const publisher = new FakePublisher();
    const online = new OnlineClients();
    const sink = new FakePresenceSink();
    const report = new FakePresenceReport();
    const presence = new Presence({
      pingIntervalMs: 1_000,
      missedPings: 3,
      uiCheckIntervalMs: 500,
      uiPingTimeoutMs: 20_000,
      messageRefreshMs: 60_000,
      ...settings,
      store,
      publisher,
      online,
      managed,
      sink,
      report,
      logger: silentLogger(),
    });
    running.push(presence);
    return { store, file, managed, saveFailures, publisher, online, sink, report, presence };
  }

  /** Lets the ping rounds of `ms` pass, every name answering each round. */
  async function answerEachRound(presence: Presence, names: readonly string[], ms: number) {
    for (let t = 0; t < ms; t += 1_000) {
      for (const name of names) presence.pong(name);
      await vi.advanceTimersByTimeAsync(1_000);
    }
  }

  it("an answer makes an offline client online at once, and it is saved as managed before its row is written", async () => {
    const { store, file, online, sink, report, presence } = await setup();
    store.add("c1", "offline");
    const markOnline = store.markOnline.bind(store);
    const savedWhenWritten: (string[] | undefined)[] = [];
    store.markOnline = async (name, at) => {
      savedWhenWritten.push(file.saved);
      return markOnline(name, at);
    };
    presence.start();
    presence.pong("c1");
    expect(sink.contacts).toEqual([["c1", "pong"]]); // at once, before the write
    await vi.advanceTimersByTimeAsync(0);
    expect(store.row("c1").state).toBe("online");
    expect(store.row("c1").lastMessageTime).not.toBeNull();
    expect(savedWhenWritten).toEqual([["c1"]]);
    expect(online.isOnline("c1")).toBe(true);
    expect(sink.onlines).toEqual([["c1", true]]);
    expect(report.cameOnlines).toEqual(["c1"]);
    presence.hello("c1", hello);
    expect(sink.contacts).toEqual([
      ["c1", "pong"],
      ["c1", "hello"],
    ]);
  });

  it("writes nothing for an online client's answers until last_message_refresh has passed, then one statement a round covers every client due", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const store = new FakePresenceStore();
    for (const name of names) store.add(name, "online");
    const { presence } = await setup({ messageRefreshMs: 5_000 }, { store, managed: names });
    await presence.refresh();
    presence.start();
    await answerEachRound(presence, names, 12_000);
    // Rounds at 0 s … 12 s: refreshes at 0 s (the first answers since start), 5 s and 10 s.
    expect(store.writes).toEqual([]);
    expect(store.refreshes).toHaveLength(3);
    for (const refresh of store.refreshes) expect([...refresh].sort()).toEqual([...names].sort());
    expect(store.row("c7").lastMessageTime?.getTime()).toBe(
      new Date("2030-01-01T00:00:10Z").getTime(),
    );
  });

  it("10,000 idle clients cost at most one statement per ping round", async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `idle${i}`);
    const store = new FakePresenceStore();
    for (const name of names) store.add(name, "online");
    const { presence } = await setup({ messageRefreshMs: 10_000 }, { store, managed: names });
    await presence.refresh();
    presence.start();
    const calls: number[] = [];
    const refresh = store.refreshMessageTimes.bind(store);
    store.refreshMessageTimes = (batch, at) => {
      calls.push(Date.now());
      return refresh(batch, at);
    };
    await answerEachRound(presence, names, 25_000);
    expect(store.writes).toHaveLength(0);
    expect(store.offlineWrites).toHaveLength(0);
    // Rounds at 0 … 25 s, refresh interval 10 s: 0 s, 10 s and 20 s, each for all 10,000.
    expect(calls).toHaveLength(3);
    expect(new Set(calls).size).toBe(calls.length);
    for (const batch of store.refreshes) expect(batch).toHaveLength(10_000);
  });

  it("refreshes a client's last_message_time at most once per interval however often it answers, and not at all once it is silent", async () => {
    const { store, presence } = await setup({ messageRefreshMs: 60_000, missedPings: 1_000 });
    store.add("c1", "offline");
    store.add("quiet", "offline");
    presence.start();
    presence.hello("c1", hello);
    presence.pong("quiet");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.writes).toEqual(["c1", "quiet"]); // the state changes, at once
    for (let t = 0; t < 130_000; t += 1_000) {
      presence.pong("c1");
      presence.hello("c1", hello);
      presence.pong("c1");
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(store.writes).toEqual(["c1", "quiet"]);
    const refreshesOf = (name: string) => store.refreshes.filter((r) => r.includes(name)).length;
    // Written online at 0 s; refreshed at 60 s and 120 s.
    expect(refreshesOf("c1")).toBe(2);
    expect(refreshesOf("quiet")).toBe(0);
  });

  it("never writes a row it does not manage: osa-dispatcher's online, pinged and expired rows stay as they are while its own client comes and goes", async () => {
    const store = new FakePresenceStore();
    store.add("classic", "online");
    store.add("classic-pinged", "online");
    store.requestPing("classic-pinged");
    store.add("classic-expired", "online");
    store.requestPing("classic-expired");
    await store.setPingDeadline("classic-expired", new Date(Date.now() - 1_000));
    store.deadlineWrites.length = 0;
    store.add("own", "offline");
    const { online, presence } = await setup({ missedPings: 2 }, { store });
    await presence.refresh();
    presence.start();
    const before = structuredClone([...store.rows].filter(([name]) => name.startsWith("classic")));
    for (let cycle = 0; cycle < 5; cycle++) {
      presence.hello("own", hello);
      await answerEachRound(presence, ["own"], 3_000);
      expect(store.row("own").state).toBe("online");
      if (cycle % 2 === 0) presence.goodbye("own");
      await vi.advanceTimersByTimeAsync(4_000); // silent: reaped if it did not say goodbye
      expect(store.row("own").state).toBe("offline");
    }
    for (const name of ["classic", "classic-pinged", "classic-expired"]) {
      expect(store.touched(name)).toBe(false);
      expect(online.isOnline(name)).toBe(false);
    }
    expect([...store.rows].filter(([name]) => name.startsWith("classic"))).toEqual(before);
    expect(store.touched("own")).toBe(true);
  });

  it("writes state changes at once: goodbye and missed pings take a client offline with both ping times cleared", async () => {
    const { store, sink, report, presence } = await setup({ missedPings: 3 });
    store.add("leaver", "offline");
    store.add("silent", "offline");
    presence.start();
    presence.hello("leaver", { ...hello, clientName: "leaver" });
    presence.pong("silent");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.row("leaver").state).toBe("online");
    store.requestPing("leaver");
    store.requestPing("silent");
    await store.setPingDeadline("silent", new Date(Date.now() + 60_000));
    presence.goodbye("leaver");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.row("leaver")).toMatchObject({
      state: "offline",
      lastPingTime: null,
      nextActionTime: null,
    });
    expect(sink.offlines).toEqual([["leaver"]]);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(store.row("silent")).toMatchObject({
      state: "offline",
      lastPingTime: null,
      nextActionTime: null,
    });
    expect(report.wentOfflines).toEqual(["leaver", "silent"]);
  });

  it("a goodbye while the client's online write is in flight still leaves it offline", async () => {
    const { store, online, presence } = await setup();
    store.add("c1", "offline");
    presence.start();
    presence.hello("c1", hello);
    presence.goodbye("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.row("c1").state).toBe("offline");
    expect(online.isOnline("c1")).toBe(false);
  });

  it("a row set offline behind its back is written online again by the client's next answer", async () => {
    const store = new FakePresenceStore();
    store.add("c1", "online");
    const { online, sink, presence } = await setup({}, { store, managed: ["c1"] });
    await presence.refresh();
    presence.start();
    await answerEachRound(presence, ["c1"], 2_000);
    expect(store.writes).toEqual([]);
    store.row("c1").state = "offline"; // e.g. another writer's UI-ping deadline
    presence.pong("c1");
    await vi.advanceTimersByTimeAsync(1_000); // the round notices
    expect(online.isOnline("c1")).toBe(false);
    expect(sink.offlines).toEqual([["c1"]]);
    presence.pong("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.writes).toEqual(["c1"]);
    expect(store.row("c1").state).toBe("online");
    expect(sink.onlines).toEqual([["c1", true]]);
  });

  it("remembers its clients across a restart: one killed while it was down is reaped after, the unmanaged row is not", async () => {
    const store = new FakePresenceStore();
    const file = new MemoryManagedFile();
    store.add("own", "offline");
    store.add("classic", "online");
    const first = await setup({ missedPings: 2 }, { store, file });
    first.presence.start();
    first.presence.hello("own", { ...hello, clientName: "own" });
    await vi.advanceTimersByTimeAsync(0);
    await first.presence.stop();
    expect(store.row("own").state).toBe("online"); // left as it is when stopping
    expect(file.saved).toEqual(["own"]);

    const second = await setup({ missedPings: 2 }, { store, file });
    await second.presence.refresh();
    expect(second.online.isOnline("own")).toBe(true);
    second.presence.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(store.row("own").state).toBe("offline");
    expect(store.row("classic").state).toBe("online");
    expect(store.touched("classic")).toBe(false);
  });

  it("forgets managed names whose row is gone when it starts", async () => {
    const store = new FakePresenceStore();
    store.add("kept", "offline");
    const file = new MemoryManagedFile(["kept", "renamed-elsewhere"]);
    const { managed, presence } = await setup({}, { store, file });
    await presence.refresh();
    expect(managed.isManaged("renamed-elsewhere")).toBe(false);
    expect(file.saved).toEqual(["kept"]);
  });

  it("serves the web UI ping of a managed client: deadline first, then a ping; the answer is written at once and clears both times", async () => {
    const store = new FakePresenceStore();
    store.add("c1", "online");
    const { publisher, presence } = await setup(
      { pingIntervalMs: 60_000 },
      { store, managed: ["c1"] },
    );
    await presence.refresh();
    presence.start();
    await vi.advanceTimersByTimeAsync(0);
    presence.pong("c1");
    const pings = publisher.pings;
    store.requestPing("c1");
    await vi.advanceTimersByTimeAsync(500);
    expect(publisher.pings).toBe(pings + 1);
    expect(store.row("c1").nextActionTime?.getTime()).toBe(Date.now() + 20_000);
    presence.pong("c1"); // online already, but a web-UI ping must be written
    await vi.advanceTimersByTimeAsync(0);
    expect(store.writes).toEqual(["c1"]);
    expect(store.row("c1")).toMatchObject({
      state: "online",
      lastPingTime: null,
      nextActionTime: null,
    });
  });

  it("takes a managed client that misses the web UI ping deadline offline, clearing the ping times", async () => {
    const store = new FakePresenceStore();
    store.add("c1", "online");
    const { sink, report, presence } = await setup(
      { pingIntervalMs: 60_000, missedPings: 1_000, uiPingTimeoutMs: 2_000 },
      { store, managed: ["c1"] },
    );
    await presence.refresh();
    presence.start();
    await vi.advanceTimersByTimeAsync(0);
    store.requestPing("c1");
    await vi.advanceTimersByTimeAsync(500);
    const deadline = store.row("c1").nextActionTime?.getTime() ?? 0;
    await vi.advanceTimersByTimeAsync(deadline - Date.now() - 1);
    expect(store.row("c1").state).toBe("online");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(store.row("c1")).toMatchObject({
      state: "offline",
      lastPingTime: null,
      nextActionTime: null,
    });
    expect(sink.offlines).toEqual([["c1"]]);
    expect(report.wentOfflines).toEqual(["c1"]);
  });

  it("a web-UI ping deadline it did not set (set before a restart) takes offline only the client that stopped answering", async () => {
    const store = new FakePresenceStore();
    for (const name of ["talker", "mute"]) {
      store.add(name, "online");
      store.requestPing(name);
      await store.setPingDeadline(name, new Date(Date.now() + 3_000));
    }
    const { sink, presence } = await setup(
      { missedPings: 1_000 },
      { store, managed: ["talker", "mute"] },
    );
    await presence.refresh();
    presence.start();
    await answerEachRound(presence, ["talker"], 5_000);
    expect(store.offlineWrites.flat()).toEqual(["mute"]);
    expect(sink.offlines).toEqual([["mute"]]);
    expect(store.row("talker")).toMatchObject({
      state: "online",
      lastPingTime: null,
      nextActionTime: null,
    });
    expect(store.row("mute")).toMatchObject({
      state: "offline",
      lastPingTime: null,
      nextActionTime: null,
    });
  });

  it("reports a failed write and retries it on the client's next answer", async () => {
    const { store, report, presence } = await setup();
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
