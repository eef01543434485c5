import { waitFor } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import { SEND_BATCH, type Notifier } from "../src/dispatch/notifier.js";
import { dueAction, fakeNotifier } from "./fakes.js";

// Real timers: what is measured is whether the event loop gets a turn during a round.
describe("Notifier: a mass action and the event loop", () => {
  let notifier: Notifier | undefined;
  afterEach(async () => {
    await notifier?.stop();
    notifier = undefined;
  });

  it("gives the event loop a turn every SEND_BATCH checkins, not only after the last", async () => {
    const harness = fakeNotifier({ pollIntervalMs: 60_000 });
    notifier = harness.notifier;
    const { store, publisher, reachable } = harness;
    const systems = 4 * SEND_BATCH + 7;
    store.due = Array.from({ length: systems }, (_, i) => dueAction(i + 1, 1, `c${i + 1}`));
    for (let i = 1; i <= systems; i += 1) reachable(`c${i}`);
    // What an I/O callback sees: how many checkins had gone out each time the loop got a turn.
    const seen: number[] = [];
    const turn = (): void => {
      seen.push(publisher.checkins.length);
      if (publisher.checkins.length < systems) setImmediate(turn);
    };
    setImmediate(turn);
    notifier.start();
    await waitFor("every checkin sent", () => publisher.checkins.length === systems);
    await waitFor("a turn after the last checkin", () => seen.at(-1) === systems);
    const during = new Set(seen.filter((n) => n > 0 && n < systems));
    expect(during.size).toBeGreaterThanOrEqual(4);
    const steps = seen.slice(1).map((n, i) => n - seen[i]!);
    expect(Math.max(...steps)).toBeLessThanOrEqual(SEND_BATCH);
  });
});
