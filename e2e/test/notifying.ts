// The failover checks every test of a server failover set makes, wherever its servers run
// (127.0.0.1 ports in failover.test.ts, hosts of their own in across-hosts-failover.test.ts):
// from the servers' own timestamped logs, no two ever sent checkins while both held the
// notifying role; and each due action reached its system once or twice, within the bound.
import { expect } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { countByLabel, type Deployment, type ManagedProcess } from "@osad2/testkit";

export const ACTIVE = /"msg":"became active: holding the notifying role"/;
export const STANDBY = /"msg":"standby: /;
const LOST = /"msg":"lost the notifying role/;
const CHECKIN_SENT = /"msg":"checkin sent"/;
const CLIENT_CHECKIN = /checkin requested by the server/;

/** One server process of a failover set and when it ended (SIGKILL: the test's kill time). */
export interface ServerRun {
  readonly process: ManagedProcess;
  endedAt: number | undefined;
}

/** A member of a failover set: every process it ran, in order. */
export interface NotifyingMember {
  readonly name: string;
  readonly history: readonly ServerRun[];
}

/** The `"time"` (epoch ms) of a server's JSON log line. */
export function time(line: string): number {
  const match = /"time":(\d+)/.exec(line);
  if (match === null) throw new Error(`no time in ${line}`);
  return Number(match[1]);
}

/**
 * The intervals each server process held the notifying role, from its log ("became active"
 * until "lost the notifying role" or its end), and its checkin times.
 */
export function activity(m: NotifyingMember): {
  intervals: [number, number][];
  checkins: number[];
} {
  const intervals: [number, number][] = [];
  const checkins: number[] = [];
  for (const { process, endedAt } of m.history) {
    let since: number | undefined;
    for (const line of process.lines) {
      if (ACTIVE.test(line)) since = time(line);
      else if (LOST.test(line) && since !== undefined) {
        intervals.push([since, time(line)]);
        since = undefined;
      } else if (CHECKIN_SENT.test(line)) checkins.push(time(line));
    }
    if (since !== undefined) {
      const last = process.lines.length > 0 ? time(process.lines.at(-1) as string) : since;
      intervals.push([since, endedAt ?? Math.max(last, Date.now())]);
    }
  }
  return { intervals, checkins };
}

/** No two servers' active intervals overlap, and every checkin lies in its sender's interval. */
export function expectNeverTwoNotifying(set: readonly NotifyingMember[]): void {
  const all = set.map((m) => ({ m, ...activity(m) }));
  for (const { m, intervals, checkins } of all) {
    for (const at of checkins) {
      expect(
        intervals.some(([from, to]) => at >= from && at <= to),
        `${m.name}'s checkin at ${at} lies within one of its active intervals ${JSON.stringify(intervals)}`,
      ).toBe(true);
    }
  }
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      for (const [f1, t1] of all[i]!.intervals) {
        for (const [f2, t2] of all[j]!.intervals) {
          expect(
            t1 <= f2 || t2 <= f1,
            `${all[i]!.m.name} [${f1}, ${t1}] and ${all[j]!.m.name} [${f2}, ${t2}] both active`,
          ).toBe(true);
        }
      }
    }
  }
}

/** What one action per system came to: the slowest run after `since`, checkins per label. */
export interface Delivery {
  readonly slowestMs: number;
  /** Each label's first run, ms after `since`. */
  readonly delays: ReadonlyMap<string, number>;
  readonly checkins: ReadonlyMap<string, number>;
}

/** Actions scheduled for `labels`: where their runs and checkins start counting. */
export interface Scheduled {
  readonly labels: readonly string[];
  readonly runsBefore: number;
  readonly checkinsBefore: ReadonlyMap<string, number>;
}

/**
 * Schedules one action for every system. `dep.clients` must hold each label's client process
 * (Estate.startClient puts them there).
 */
export async function scheduleOne(dep: Deployment, labels: readonly string[]): Promise<Scheduled> {
  const runsBefore = (await dep.runs()).length;
  const checkinsBefore = new Map(
    labels.map((l) => [l, dep.clients.get(l)!.matching(CLIENT_CHECKIN).length]),
  );
  await dep.schedule(labels);
  return { labels, runsBefore, checkinsBefore };
}

/**
 * Waits until each scheduled system has run rhn_check and returns each first run's delay
 * after `since` (the fault, or the path whole again); then, once two more pings went by (a
 * further checkin would have arrived before them), the checkins each client got.
 */
export async function delivered(
  dep: Deployment,
  { labels, runsBefore, checkinsBefore }: Scheduled,
  since: number,
  timeoutMs = 30_000,
): Promise<Delivery> {
  await waitFor(
    `a run on each of ${labels.join(", ")}`,
    async () => {
      const counts = countByLabel((await dep.runs()).slice(runsBefore));
      return labels.every((l) => (counts.get(l) ?? 0) >= 1);
    },
    { timeoutMs, everyMs: 50 },
  );
  const runs = (await dep.runs()).slice(runsBefore);
  const delays = new Map(
    labels.map((l) => [l, Math.min(...runs.filter((r) => r.label === l).map((r) => r.at)) - since]),
  );
  const slowestMs = Math.max(...delays.values());
  await Promise.all(labels.map((l) => dep.pingRounds(l, 2)));
  const checkins = new Map(
    labels.map((l) => [
      l,
      dep.clients.get(l)!.matching(CLIENT_CHECKIN).length - (checkinsBefore.get(l) ?? 0),
    ]),
  );
  return { slowestMs, delays, checkins };
}

/** One action for every system, scheduled right after a fault at `since`: {@link delivered}. */
export async function deliverOne(
  dep: Deployment,
  labels: readonly string[],
  since: number,
): Promise<Delivery> {
  return delivered(dep, await scheduleOne(dep, labels), since);
}

/** Each label got one checkin, or two (a retry), never more. */
export function expectAtMostTwo(checkins: ReadonlyMap<string, number>): void {
  for (const [label, n] of checkins) {
    expect(n, `checkins of ${label}`).toBeGreaterThanOrEqual(1);
    expect(n, `checkins of ${label}`).toBeLessThanOrEqual(2);
  }
}
