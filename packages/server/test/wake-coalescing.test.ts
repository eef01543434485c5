import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Notifier, type NotifierSettings } from "../src/dispatch/notifier.js";
import { NotificationBook } from "../src/dispatch/notification-book.js";
import { WakeCoalescer } from "../src/dispatch/wake-coalescer.js";
import { dueAction, fakeNotifier } from "./fakes.js";

describe("WakeCoalescer", () => {
  /** Feeds wake-ups at the given times and starts each round when it is asked for. */
  function rounds(wakeTimes: readonly number[]): number[] {
    const coalescer = new WakeCoalescer({ firstWindowMs: 20, maxWindowMs: 1_000 });
    const started: number[] = [];
    let pending: number | undefined;
    const startDueRounds = (until: number): void => {
      while (pending !== undefined && pending <= until) {
        const at = pending;
        pending = undefined;
        coalescer.roundStarted(at);
        started.push(at);
      }
    };
    for (const t of wakeTimes) {
      startDueRounds(t);
      const at = coalescer.wake(t);
      // A round already asked for at or before `at` covers this wake-up (it starts later).
      if (pending === undefined || at < pending) pending = at;
    }
    startDueRounds(Infinity);
    return started;
  }

  it("runs the round of a wake-up after quiet at once", () => {
    expect(rounds([0])).toEqual([0]);
    expect(rounds([0, 5_000, 10_000])).toEqual([0, 5_000, 10_000]);
    // Slower than the first window: every one at once.
    expect(rounds([0, 30, 60, 90])).toEqual([0, 30, 60, 90]);
  });

  it("shares rounds in a burst, the window doubling to its maximum, and resets after a gap", () => {
    // 3,000 wake-ups, one every 0.7 ms (2.1 s), as NOTIFYs of single-row updates arrive.
    const burst = Array.from({ length: 3_000 }, (_, i) => i * 0.7);
    const started = rounds(burst);
    expect(started[0]).toBe(0);
    const gaps = started.slice(1).map((t, i) => t - (started[i] as number));
    expect(gaps).toEqual([20, 40, 80, 160, 320, 640, 1_000]);
    expect(started.length).toBeLessThanOrEqual(10);
    // The last wake-up of the burst is covered by a round after it.
    expect(started.at(-1)).toBeGreaterThanOrEqual(burst.at(-1) as number);
    // Quiet for longer than the window: the next one is at once again.
    const after = rounds([...burst, 5_000]);
    expect(after.at(-1)).toBe(5_000);
  });
});

describe("Notifier wake-ups and queries (fakes, fake clock)", () => {
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
    const harness = fakeNotifier({ pollIntervalMs: 3_600_000, ...settings });
    notifier = harness.notifier;
    return harness;
  }

  it("a burst of 3,000 wake-ups over 2 s costs at most 10 rounds; one after quiet runs at once", async () => {
    const { store, publisher, notifier, reachable } = setup();
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    const before = store.rounds;
    for (let i = 0; i < 3_000; i++) {
      if (i % 3 === 0) await vi.advanceTimersByTimeAsync(2);
      notifier.wake();
    }
    await vi.advanceTimersByTimeAsync(5_000);
    expect(store.rounds - before).toBeLessThanOrEqual(10);
    expect(store.rounds - before).toBeGreaterThanOrEqual(2);

    // After quiet, one scheduled action: its round runs without waiting for any window.
    store.due = [dueAction(1, 10, "c1")];
    notifier.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1"]);
  });

  it("a wake-up during a round still causes a round after it", async () => {
    const { store, publisher, notifier, reachable } = setup();
    reachable("c1");
    let release: (() => void) | undefined;
    const dueActions = store.dueActions.bind(store);
    // Each round reads the due list when it starts and then waits for release().
    store.dueActions = async (now, options) => {
      const read = dueActions(now, options);
      await new Promise<void>((resolve) => (release = resolve));
      return read;
    };
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    // The round is reading; the action is committed meanwhile and its NOTIFY arrives.
    store.due = [dueAction(1, 10, "c1")];
    notifier.wake();
    release?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    release?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(publisher.checkins).toEqual(["c1"]);
  });

  it("asks the database only about clients it heard from", async () => {
    const { store, notifier, reachable } = setup();
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    // After a restart nobody has spoken: nothing to ask about.
    expect(store.askedAbout).toEqual([[]]);
    reachable("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(store.askedAbout.at(-1)).toEqual(["c1"]);
  });

  it("counts running systems only when a system would take a throttle slot", async () => {
    const { store, publisher, notifier, reachable } = setup({ threshold: 5 });
    reachable("c1");
    notifier.start();
    await vi.advanceTimersByTimeAsync(0);
    // Nothing due: idle rounds (and bursts of them) do not read rhnServerAction's statuses.
    for (let i = 0; i < 5; i++) {
      notifier.wake();
      await vi.advanceTimersByTimeAsync(2_000);
    }
    expect(store.rounds).toBeGreaterThanOrEqual(6);
    expect(store.runningCalls).toBe(0);
    store.due = [dueAction(1, 10, "c1")];
    notifier.wake();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(publisher.checkins).toEqual(["c1"]);
    expect(store.runningCalls).toBe(1);
    // Already asked: more rounds, another action of the same system, no count.
    store.due = [dueAction(1, 10, "c1"), dueAction(1, 11, "c1")];
    notifier.wake();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(publisher.checkins).toEqual(["c1", "c1"]);
    expect(store.runningCalls).toBe(1);
  });
});

describe("NotificationBook scope", () => {
  it("keeps what was announced to clients a round did not ask about", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 0 });
    const everyone = () => true;
    for (const p of book.plan([dueAction(1, 10, "c1"), dueAction(2, 10, "c2")], 0, everyone)
      .publications) {
      book.record(p, 0);
    }
    // A round that asked about c2 only: c1's announcement is remembered, not repeated later.
    book.plan([dueAction(2, 10, "c2")], 1_000, everyone, new Map(), new Set(), (n) => n === "c2");
    expect(book.plan([dueAction(1, 10, "c1")], 2_000, everyone).publications).toEqual([]);
    // Gone offline: forgotten (its return brings a catch-up anyway).
    book.forgetClients(["c1"]);
    expect(book.plan([dueAction(1, 10, "c1")], 3_000, everyone).publications).toHaveLength(1);
    expect(book.wantsSlot([dueAction(3, 10, "c3")], 3_000, everyone)).toBe(true);
    expect(book.wantsSlot([dueAction(3, 10, "c3")], 3_000, () => false)).toBe(false);
  });
});
