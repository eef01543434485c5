import { scheduleAction } from "@osad2/server/testing";
import { retryBusy, type DatabaseChoice } from "@osad2/testkit";
import { serverMetrics, type ServerMetrics } from "./metrics.js";
import type { BenchOptions } from "./options.js";
import { sampleProcess } from "./proc.js";
import { BenchTimeoutError, SimBench, type Log } from "./setup.js";
import { distribution, type Distribution } from "./stats.js";

export interface FanoutResult {
  readonly database: DatabaseChoice;
  readonly clients: number;
  readonly processes: number;
  readonly registerMs: number;
  /** Start of the simulated clients (paced by --connect-rate) → every one said hello / is online. */
  readonly connectMs: number | null;
  readonly onlineMs: number | null;
  /** Clients that completed the CURVE handshake on both sockets, and rows online, at the end. */
  readonly clientsConnected: number;
  readonly clientsOnline: number;
  /** The INSERT of the mass action (rhnAction + N rhnServerAction rows). */
  readonly scheduleMs: number | null;
  /** Action committed → each client's first checkin (ms). */
  readonly checkinDelay: Distribution | undefined;
  /** Action committed → the last client got its checkin. */
  readonly allCheckinsMs: number | null;
  /** Action committed → every rhnServerAction row completed (status 2). */
  readonly allCompletedMs: number | null;
  readonly clientsWithCheckin: number;
  /** Checkins beyond one per client (re-notifications), and the most any one client got. */
  readonly duplicateCheckins: number;
  readonly maxCheckinsPerClient: number;
  readonly completedRows: number;
  readonly serverRssMiB: number;
  readonly serverFds: number;
  readonly serverMetrics: ServerMetrics;
  readonly authFailures: number;
  /** Hellos answered `refused busy` (the server could not read the key then). */
  readonly busyRefusals: number;
  readonly clientErrors: number;
  readonly errorSamples: readonly string[];
  /** Set when a phase did not finish: which, and where it stood. */
  readonly timedOut?: string;
}

/** The mass-action figures: one action for every system of a bench whose clients are online. */
export interface MassActionFigures {
  readonly scheduleMs: number | null;
  readonly checkinDelay: Distribution | undefined;
  readonly allCheckinsMs: number | null;
  readonly allCompletedMs: number | null;
  readonly clientsWithCheckin: number;
  readonly duplicateCheckins: number;
  readonly maxCheckinsPerClient: number;
  readonly completedRows: number;
  readonly timedOut?: string;
}

/**
 * Schedules one action for every system of `bench` (its clients online) and waits until every
 * client has its checkin and every run is completed; a phase that times out is reported.
 */
export async function measureMassAction(
  bench: SimBench,
  name: string,
  log: Log,
): Promise<MassActionFigures> {
  const n = bench.systems.length;
  let scheduleMs: number | null = null;
  let allCheckinsMs: number | null = null;
  let allCompletedMs: number | null = null;
  let timedOut: string | undefined;
  let t0 = Number.POSITIVE_INFINITY;
  let actionId: number | undefined;
  try {
    const store = await bench.deployment.store();
    const t = Date.now();
    actionId = await retryBusy(() => scheduleAction(store, { serverIds: bench.serverIds, name }));
    t0 = Date.now();
    scheduleMs = t0 - t;
    await bench.waitUntil(
      "every client's checkin",
      () => bench.tracker.firstCheckinsSince(t0).size >= n,
      () => `${bench.tracker.firstCheckinsSince(t0).size}/${n} checkins`,
    );
    allCheckinsMs = Math.max(...bench.tracker.firstCheckinsSince(t0).values()) - t0;
    log(`every client got its checkin after ${allCheckinsMs} ms`);
    await bench.waitUntil(
      "every run completed in rhnServerAction",
      () => bench.completer.completedRows >= n,
      () => `${bench.completer.completedRows}/${n} completed`,
    );
    allCompletedMs = bench.completer.lastWriteAt - t0;
    log(`every action completed after ${allCompletedMs} ms`);
  } catch (error) {
    if (!(error instanceof BenchTimeoutError)) throw error;
    timedOut = error.message;
    log(timedOut);
  }
  const firsts = bench.tracker.firstCheckinsSince(t0);
  return {
    scheduleMs,
    checkinDelay: distribution([...firsts.values()].map((at) => at - t0)),
    allCheckinsMs,
    allCompletedMs,
    clientsWithCheckin: firsts.size,
    duplicateCheckins: bench.tracker.checkinCountSince(t0) - firsts.size,
    maxCheckinsPerClient: bench.tracker.maxCheckinsSince(t0),
    completedRows: actionId === undefined ? 0 : await bench.db.completedCount([actionId]),
    ...(timedOut ? { timedOut } : {}),
  };
}

/** A mass action to N connected simulated clients; throttled by the server's checkin_count. */
export async function fanout(
  database: DatabaseChoice,
  options: BenchOptions,
  log: Log,
): Promise<FanoutResult> {
  const bench = await SimBench.create(database, options, log);
  const n = options.clients;
  let connectMs: number | null = null;
  let onlineMs: number | null = null;
  let mass: MassActionFigures | undefined;
  let timedOut: string | undefined;
  try {
    try {
      ({ connectMs, onlineMs } = await bench.connectAll());
      log(`all ${n} online after ${onlineMs} ms; scheduling one action for all of them`);
      mass = await measureMassAction(bench, `fanout bench (${n} systems)`, log);
    } catch (error) {
      if (!(error instanceof BenchTimeoutError)) throw error;
      timedOut = error.message;
      log(timedOut);
    }
    const server = sampleProcess(bench.deployment.server?.pid ?? -1);
    return {
      database,
      clients: n,
      processes: bench.pids.length,
      registerMs: bench.registerMs,
      connectMs,
      onlineMs,
      clientsConnected: bench.tracker.currentlyConnected.size,
      clientsOnline: await bench.db.onlineCount(),
      scheduleMs: mass?.scheduleMs ?? null,
      checkinDelay: mass?.checkinDelay,
      allCheckinsMs: mass?.allCheckinsMs ?? null,
      allCompletedMs: mass?.allCompletedMs ?? null,
      clientsWithCheckin: mass?.clientsWithCheckin ?? 0,
      duplicateCheckins: mass?.duplicateCheckins ?? 0,
      maxCheckinsPerClient: mass?.maxCheckinsPerClient ?? 0,
      completedRows: mass?.completedRows ?? 0,
      serverRssMiB: Math.round(server.rssKiB / 1024),
      serverFds: server.fds,
      serverMetrics: await serverMetrics(bench.deployment),
      authFailures: bench.tracker.authFailures,
      busyRefusals: bench.tracker.busyRefusals,
      clientErrors: bench.tracker.errors,
      errorSamples: bench.tracker.errorSamples,
      ...((timedOut ?? mass?.timedOut) ? { timedOut: timedOut ?? mass?.timedOut } : {}),
    };
  } finally {
    await bench.dispose();
  }
}
