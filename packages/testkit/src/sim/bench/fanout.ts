import { scheduleAction } from "@osad2/server";
import type { DatabaseChoice } from "../../deployment.js";
import type { BenchOptions } from "./options.js";
import { sampleProcess } from "./proc.js";
import { BenchTimeoutError, SimBench, type Log } from "./setup.js";
import { distribution, type Distribution } from "./stats.js";

export interface FanoutResult {
  readonly database: DatabaseChoice;
  readonly clients: number;
  readonly processes: number;
  readonly registerMs: number;
  /** Start of the simulated clients → every one said hello / is online in rhnPushClient. */
  readonly connectMs: number;
  readonly onlineMs: number;
  /** The INSERT of the mass action (rhnAction + N rhnServerAction rows). */
  readonly scheduleMs: number;
  /** Action committed → each client's first checkin (ms). */
  readonly checkinDelay: Distribution | undefined;
  /** Action committed → the last client got its checkin. */
  readonly allCheckinsMs: number | null;
  /** Action committed → every rhnServerAction row completed (status 2). */
  readonly allCompletedMs: number | null;
  readonly clientsWithCheckin: number;
  /** Checkins beyond one per client (re-notifications). */
  readonly duplicateCheckins: number;
  readonly completedRows: number;
  readonly serverRssMiB: number;
  readonly serverFds: number;
  readonly authFailures: number;
  readonly clientErrors: number;
  readonly errorSamples: readonly string[];
  readonly timedOut?: string;
}

/** A mass action to N connected simulated clients; throttled by the server's checkin_count. */
export async function fanout(
  database: DatabaseChoice,
  options: BenchOptions,
  log: Log,
): Promise<FanoutResult> {
  const bench = await SimBench.create(database, options, log);
  try {
    const { connectMs, onlineMs } = await bench.connectAll();
    log(
      `all ${options.clients} online after ${onlineMs} ms; scheduling one action for all of them`,
    );
    const n = options.clients;
    const t = Date.now();
    const actionId = await scheduleAction(await bench.deployment.store(), {
      serverIds: bench.serverIds,
      name: `fanout bench (${n} systems)`,
    });
    const t0 = Date.now();
    let allCheckinsMs: number | null = null;
    let allCompletedMs: number | null = null;
    let timedOut: string | undefined;
    try {
      await bench.waitUntil(
        "every client's checkin",
        () => bench.tracker.firstCheckinsSince(t0).size >= n,
        () => `${bench.tracker.firstCheckinsSince(t0).size}/${n} checkins`,
      );
      allCheckinsMs = Date.now() - t0;
      log(`every client got its checkin after ${allCheckinsMs} ms`);
      await bench.waitUntil(
        "every run completed in rhnServerAction",
        () => bench.completer.completedRows >= n,
        () => `${bench.completer.completedRows}/${n} completed`,
      );
      allCompletedMs = Date.now() - t0;
      log(`every action completed after ${allCompletedMs} ms`);
    } catch (error) {
      if (!(error instanceof BenchTimeoutError)) throw error;
      timedOut = error.message;
      log(timedOut);
    }
    const firsts = bench.tracker.firstCheckinsSince(t0);
    const server = sampleProcess(bench.deployment.server?.pid ?? -1);
    return {
      database,
      clients: n,
      processes: bench.fleet?.pids.length ?? 0,
      registerMs: bench.registerMs,
      connectMs,
      onlineMs,
      scheduleMs: t0 - t,
      checkinDelay: distribution([...firsts.values()].map((at) => at - t0)),
      allCheckinsMs,
      allCompletedMs,
      clientsWithCheckin: firsts.size,
      duplicateCheckins: bench.tracker.checkinCountSince(t0) - firsts.size,
      completedRows: await bench.db.completedCount([actionId]),
      serverRssMiB: Math.round(server.rssKiB / 1024),
      serverFds: server.fds,
      authFailures: bench.tracker.authFailures,
      clientErrors: bench.tracker.errors,
      errorSamples: bench.tracker.errorSamples,
      ...(timedOut ? { timedOut } : {}),
    };
  } finally {
    await bench.dispose();
  }
}
