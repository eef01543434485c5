import { scheduleAction } from "@osad2/server/testing";
import { sleep } from "@osad2/test-helpers";
import { retryBusy, type DatabaseChoice } from "@osad2/testkit";
import { EventLoopLagSampler } from "./metrics.js";
import type { BenchOptions } from "./options.js";
import { BenchTimeoutError, SimBench, type Log } from "./setup.js";
import { distribution, type Distribution } from "./stats.js";

export interface StormResult extends RestartFigures {
  readonly database: DatabaseChoice;
  readonly clients: number;
}

/** The restart figures of a bench whose clients were all online when the server was stopped. */
export interface RestartFigures {
  readonly signal: string;
  readonly downMs: number;
  /** Restart command → /healthz 200. */
  readonly startMs: number;
  /**
   * Restart → every simulated client reconnected and said hello; null when their connections
   * did not end (clients behind a proxy keep theirs and hello again through it).
   */
  readonly allReconnectedMs: number | null;
  /** Restart → every push client online again in rhnPushClient (last message after the restart). */
  readonly allOnlineMs: number | null;
  /** Restart → per-client reconnect (hello). */
  readonly reconnectDelay: Distribution | undefined;
  /** Actions scheduled while the server was down (one mass action to all clients). */
  readonly actionsScheduled: number;
  /** Restart → every client got the checkin for it / every row completed. */
  readonly allCheckinsMs: number | null;
  readonly allCompletedMs: number | null;
  /** Scheduled while down and never announced to their client (must be 0). */
  readonly lost: number;
  /** Rows of that action not completed at the end. */
  readonly notCompleted: number;
  readonly duplicateCheckins: number;
  readonly maxCheckinsPerClient: number;
  readonly clientErrors: number;
  /** Hellos answered `refused busy` over the run (each retried after a few seconds). */
  readonly busyRefusals: number;
  /**
   * The server's worst event-loop lag from the restart until every run completed (its /metrics,
   * scraped every 500 ms; null if no scrape answered).
   */
  readonly eventLoopLagMaxMs: number | null;
  readonly timedOut?: string;
}

/** The latest first reconnect (hello) after `since` over all clients. */
function lastReconnect(bench: SimBench, since: number): number {
  let last = since;
  for (const times of bench.tracker.connected.values()) {
    const t = times.find((at) => at >= since);
    if (t !== undefined && t > last) last = t;
  }
  return last;
}

/** Server restart with N connected clients; an action for all of them is scheduled while it is down. */
export async function storm(
  database: DatabaseChoice,
  options: BenchOptions,
  log: Log,
): Promise<StormResult> {
  const bench = await SimBench.create(database, options, log);
  try {
    await bench.connectAll();
    const figures = await measureRestart(bench, options, log, { reconnects: true });
    return { database, clients: options.clients, ...figures };
  } finally {
    await bench.dispose();
  }
}

/**
 * Stops the server of `bench` (every client online) with --signal, schedules one action for
 * every system while it is down, restarts it after --down and waits until every client is
 * online again and every run completed. `reconnects`: the clients' own connections end with
 * the server (direct clients); false behind proxies, which keep them.
 */
export async function measureRestart(
  bench: SimBench,
  options: BenchOptions,
  log: Log,
  { reconnects }: { readonly reconnects: boolean },
): Promise<RestartFigures> {
  const d = bench.deployment;
  const n = bench.systems.length;
  const lag = new EventLoopLagSampler(d);
  // Rows completed before (an earlier phase of the same bench): the completer counts them all.
  const doneBefore = bench.completer.completedRows;
  try {
    log(`all ${n} online; stopping the server with ${options.signal}`);
    const tDown = Date.now();
    await d.stopServer(options.signal);
    const store = await d.store();
    const actionId = await retryBusy(() =>
      scheduleAction(store, {
        serverIds: bench.serverIds,
        name: `restart bench (${n} systems, scheduled while the server is down)`,
      }),
    );
    const tScheduled = Date.now();
    const rest = options.downSeconds * 1000 - (Date.now() - tDown);
    if (rest > 0) await sleep(rest);
    const tRestart = Date.now();
    log(
      `server down for ${tRestart - tDown} ms (action ${actionId} scheduled meanwhile); restarting`,
    );
    lag.start();
    await d.startServer();
    const startMs = Date.now() - tRestart;
    const since = (t: number): number => Date.now() - t;
    let allReconnectedMs: number | null = null;
    let allOnlineMs: number | null = null;
    let allCheckinsMs: number | null = null;
    let allCompletedMs: number | null = null;
    let timedOut: string | undefined;
    try {
      if (reconnects) {
        await bench.waitUntil(
          "every client reconnected",
          () => bench.tracker.connectedSince(tRestart) >= n,
          () => `${bench.tracker.connectedSince(tRestart)}/${n} reconnected`,
        );
        allReconnectedMs = lastReconnect(bench, tRestart) - tRestart;
        log(`all reconnected after ${allReconnectedMs} ms`);
      }
      await bench.waitUntil(
        "every client online again in rhnPushClient",
        async () => (await bench.db.onlineCount(new Date(tRestart))) >= n,
        async () => `${await bench.db.onlineCount(new Date(tRestart))}/${n} online`,
        { everyMs: 250 },
      );
      allOnlineMs = since(tRestart);
      log(`all online after ${allOnlineMs} ms`);
      await bench.waitUntil(
        "every client's checkin for the action scheduled while down",
        () => bench.tracker.firstCheckinsSince(tScheduled).size >= n,
        () => `${bench.tracker.firstCheckinsSince(tScheduled).size}/${n} checkins`,
      );
      allCheckinsMs = Math.max(...bench.tracker.firstCheckinsSince(tScheduled).values()) - tRestart;
      await bench.waitUntil(
        "every run completed",
        () => bench.completer.completedRows - doneBefore >= n,
        () => `${bench.completer.completedRows - doneBefore}/${n} completed`,
      );
      allCompletedMs = bench.completer.lastWriteAt - tRestart;
      log(`all checkins after ${allCheckinsMs} ms, all completed after ${allCompletedMs} ms`);
    } catch (error) {
      if (!(error instanceof BenchTimeoutError)) throw error;
      timedOut = error.message;
      log(timedOut);
    }
    const lagSeen = lag.stop();
    const reconnectTimes: number[] = [];
    for (const times of bench.tracker.connected.values()) {
      const t = times.find((at) => at >= tRestart);
      if (t !== undefined) reconnectTimes.push(t - tRestart);
    }
    const checkins = bench.tracker.firstCheckinsSince(tScheduled);
    await bench.completer.drain();
    const completed = await bench.db.completedCount([actionId]);
    return {
      signal: options.signal,
      downMs: tRestart - tDown,
      startMs,
      allReconnectedMs,
      allOnlineMs,
      reconnectDelay: distribution(reconnectTimes),
      actionsScheduled: n,
      allCheckinsMs,
      allCompletedMs,
      lost: n - checkins.size,
      notCompleted: n - completed,
      duplicateCheckins: bench.tracker.checkinCountSince(tScheduled) - checkins.size,
      maxCheckinsPerClient: bench.tracker.maxCheckinsSince(tScheduled),
      clientErrors: bench.tracker.errors,
      busyRefusals: bench.tracker.busyRefusals,
      eventLoopLagMaxMs: lagSeen.maxMs,
      ...(timedOut ? { timedOut } : {}),
    };
  } finally {
    lag.stop();
  }
}
