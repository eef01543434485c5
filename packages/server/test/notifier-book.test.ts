import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NotificationBook } from "../src/dispatch/notification-book.js";
import { LogRateLimiter } from "../src/telemetry/log-rate-limiter.js";
import { backoffDelay } from "@osad2/service-kit";
import { dueAction } from "./fakes.js";

const due = dueAction;
const everyone = () => true;
const ids = (plan: ReturnType<NotificationBook["plan"]>) =>
  plan.publications.map((p) => [p.serverId, p.actions.map((a) => a.actionId)]);

describe("NotificationBook", () => {
  it("announces each due action once, then again only after the renotify interval", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 0 });
    const list = [due(1, 10), due(1, 11), due(2, 10)];
    const first = book.plan(list, 0, everyone);
    expect(ids(first)).toEqual([
      [1, [10, 11]],
      [2, [10]],
    ]);
    for (const p of first.publications) book.record(p, 0);
    expect(book.plan(list, 59_999, everyone).publications).toEqual([]);
    expect(book.nextRenotifyAt()).toBe(60_000);
    // A new action for system 1 is announced on its own.
    expect(ids(book.plan([...list, due(1, 12)], 1_000, everyone))).toEqual([[1, [12]]]);
    expect(ids(book.plan(list, 60_000, everyone))).toEqual([
      [1, [10, 11]],
      [2, [10]],
    ]);
  });

  it("reports first-time announcements only once (latency histogram)", () => {
    const book = new NotificationBook({ renotifyMs: 10, threshold: 0 });
    const [p] = book.plan([due(1, 1)], 0, everyone).publications;
    expect(book.record(p!, 0)).toHaveLength(1);
    const [again] = book.plan([due(1, 1)], 10, everyone).publications;
    expect(book.record(again!, 10)).toHaveLength(0);
  });

  it("counts a first announcement once per system and action: not again after a rename or the client going offline", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 0 });
    const [p] = book.plan([due(1, 1, "old")], 0, everyone).publications;
    expect(book.record(p!, 0)).toHaveLength(1);
    // register_osad renamed the client: announced again on the new topic, not measured again.
    const [renamed] = book.plan([due(1, 1, "new")], 1, everyone).publications;
    expect(renamed?.clientName).toBe("new");
    expect(book.record(renamed!, 1)).toHaveLength(0);
    // It went offline (out of the round's scope) and came back: still not a first time.
    book.forgetClients(["new"]);
    book.plan([], 2, everyone, new Map(), new Set(), () => false);
    const [back] = book.plan([due(1, 1, "new")], 3, everyone).publications;
    expect(book.record(back!, 3)).toHaveLength(0);
    // Done, then the same ids due again (a re-scheduled row): a first time again.
    book.plan([], 4, everyone);
    const [fresh] = book.plan([due(1, 1, "new")], 5, everyone).publications;
    expect(book.record(fresh!, 5)).toHaveLength(1);
  });

  it("forgets the announcements of the clients gone offline only, one by one as in a mass disconnect", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 0 });
    const list = Array.from({ length: 50 }, (_, i) => due(i, 7, `c${i}`));
    for (const p of book.plan(list, 0, everyone).publications) book.record(p, 0);
    expect(book.nextRenotifyAt()).toBe(60_000);
    for (let i = 0; i < 50; i += 2) book.forgetClients([`c${i}`]);
    // The even clients' announcements are forgotten (announced again now), the odd ones' kept.
    const again = book.plan(list, 1, everyone).publications.map((p) => p.clientName);
    expect(again).toEqual(list.filter((_, i) => i % 2 === 0).map((a) => a.clientName));
    for (const p of book.plan(list, 1, everyone).publications) book.record(p, 1);
    book.forgetClients(list.map((a) => a.clientName));
    expect(book.nextRenotifyAt()).toBeUndefined();
  });

  it("counts in flight the asked systems whose due work is still queued", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 0 });
    const list = [due(1, 1), due(2, 1)];
    for (const p of book.plan(list, 0, everyone).publications) book.record(p, 0);
    expect(book.inFlightCount(list)).toBe(2);
    // rhn_check picked system 2's action up (renotify_picked_up keeps it due).
    const picked = [due(1, 1), { ...due(2, 1), status: 1 as const }];
    book.plan(picked, 1, everyone);
    expect(book.inFlightCount(picked)).toBe(1);
  });

  it("throttles: at most `threshold` systems asked and not done; done systems free their slot", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 2 });
    const list = [due(1, 1), due(2, 1), due(3, 1), due(4, 1)];
    const plan = book.plan(list, 0, everyone);
    expect(ids(plan)).toEqual([
      [1, [1]],
      [2, [1]],
    ]);
    expect(plan.deferred).toBe(2);
    for (const p of plan.publications) book.record(p, 0);
    expect(book.askedCount).toBe(2);
    // Still due: slots stay taken, nothing new.
    expect(book.plan(list, 1, everyone).publications).toEqual([]);
    // System 1 done (no longer due): system 3 gets its slot.
    const next = book.plan(list.slice(1), 2, everyone);
    expect(ids(next)).toEqual([[3, [1]]]);
    // Renotifying an asked system does not need a new slot.
    for (const p of next.publications) book.record(p, 2);
    expect(ids(book.plan(list.slice(1), 60_002, everyone))).toEqual([
      [2, [1]],
      [3, [1]],
    ]);
  });

  it("skips clients that are not reachable, without holding a slot; catch-up re-announces everything", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 1 });
    const list = [due(1, 1), due(2, 1)];
    const onlyTwo = (name: string) => name === "c2";
    expect(ids(book.plan(list, 0, onlyTwo))).toEqual([[2, [1]]]);
    for (const p of book.plan(list, 0, onlyTwo).publications) book.record(p, 0);
    // Catch-up: re-announce what was announced before the client reconnected (at 1), not after.
    expect(ids(book.plan(list, 1, onlyTwo, new Map([["c2", 1]])))).toEqual([[2, [1]]]);
    for (const p of book.plan(list, 1, onlyTwo, new Map([["c2", 1]])).publications)
      book.record(p, 1);
    expect(book.plan(list, 2, onlyTwo, new Map([["c2", 1]])).publications).toEqual([]);
    // c2 goes away: its slot frees for c1.
    const onlyOne = (name: string) => name === "c1";
    expect(ids(book.plan(list, 3, onlyOne))).toEqual([[1, [1]]]);
  });

  it("a system renamed by register_osad frees the old name's slot", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 1 });
    for (const p of book.plan([due(1, 1, "old")], 0, everyone).publications) book.record(p, 0);
    expect(ids(book.plan([due(1, 1, "new")], 1, everyone))).toEqual([[1, [1]]]);
  });

  it("expedite makes remembered announcements due again at the given time", () => {
    const book = new NotificationBook({ renotifyMs: 60_000, threshold: 0 });
    for (const p of book.plan([due(1, 1)], 0, everyone).publications) book.record(p, 0);
    book.expedite(3_000);
    expect(book.plan([due(1, 1)], 2_999, everyone).publications).toEqual([]);
    expect(ids(book.plan([due(1, 1)], 3_000, everyone))).toEqual([[1, [1]]]);
  });

  it("property: never more than `threshold` systems in flight, every due system eventually asked", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 30 }),
        (threshold, servers) => {
          const book = new NotificationBook({ renotifyMs: 1_000_000, threshold });
          let pending = [...new Set(servers)].map((s) => due(s, 1));
          const asked = new Set<number>();
          for (let t = 0; pending.length > 0 && t < 100; t++) {
            const plan = book.plan(pending, t, everyone);
            for (const p of plan.publications) {
              book.record(p, t);
              asked.add(p.serverId);
            }
            if (book.askedCount > threshold) return false;
            // The first asked system finishes each round.
            const finished = pending.find((d) => asked.has(d.serverId));
            pending = pending.filter((d) => d !== finished);
          }
          return pending.length === 0 && asked.size === new Set(servers).size;
        },
      ),
    );
  });
});

describe("LogRateLimiter and back-off", () => {
  it("lets `max` events through per window and reports how many it held back", () => {
    let now = 0;
    const limiter = new LogRateLimiter(2, 1_000, () => now);
    expect(limiter.take()).toEqual({ log: true, suppressed: 0 });
    expect(limiter.take()).toEqual({ log: true, suppressed: 0 });
    expect(limiter.take()).toEqual({ log: false, suppressed: 0 });
    expect(limiter.take()).toEqual({ log: false, suppressed: 0 });
    now = 1_000;
    expect(limiter.take()).toEqual({ log: true, suppressed: 2 });
  });

  it("backs off exponentially up to the cap", () => {
    expect([1, 2, 3, 4, 10, 100].map((n) => backoffDelay(n))).toEqual([
      500, 1000, 2000, 4000, 30000, 30000,
    ]);
    expect(backoffDelay(0)).toBe(0);
  });
});
