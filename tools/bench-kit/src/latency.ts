import { scheduleAction, setServerActionStatus } from "@osad2/server/testing";
import { sleep } from "@osad2/test-helpers";
import { retryBusy, type DatabaseChoice } from "@osad2/testkit";
import { bareZeromqBaseline, type BaselineResult } from "./baseline.js";
import type { BenchOptions } from "./options.js";
import { benchDeployment, type Log } from "./setup.js";
import { distribution, type Distribution } from "./stats.js";

export interface LatencyResult {
  readonly database: DatabaseChoice;
  /** A trigger on rhnServerAction exists (PostgreSQL: `osad2-server init` installs it by default). */
  readonly notifyTrigger: boolean;
  /** How the server said it wakes (its start-up log line's `wakeUps`: notify, watch, poll), if it did. */
  readonly wakeUps: string | undefined;
  readonly pollIntervalSeconds: number;
  readonly tries: number;
  readonly failures: number;
  /** The scheduling INSERT itself (rhnAction + rhnServerAction, committed). */
  readonly insert: Distribution | undefined;
  /** Committed → the real client logged "checkin requested by the server". */
  readonly checkin: Distribution | undefined;
  /** Committed → the rhn_check stand-in started (it records its own start time). */
  readonly commandStarted: Distribution | undefined;
  /** Checkin received → command started (inside the client). */
  readonly clientReaction: Distribution | undefined;
  readonly failureSamples: readonly string[];
  /** The same host's bare ZeroMQ, measured in the same run: the floor under `checkin`. */
  readonly baseline: BaselineResult;
}

const CHECKIN_MESSAGE = "checkin requested by the server";

/** The pino `time` of each client log line saying a checkin arrived, in order. */
function checkinTimes(lines: readonly string[]): number[] {
  const times: number[] = [];
  for (const line of lines) {
    if (!line.includes(CHECKIN_MESSAGE)) continue;
    try {
      const time = (JSON.parse(line) as { time?: unknown }).time;
      if (typeof time === "number") times.push(time);
    } catch {
      // not a JSON log line
    }
  }
  return times;
}

/** The `wakeUps` field of the server's log line about how it wakes (absent in older servers). */
function serverWakeUps(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    try {
      const wakeUps = (JSON.parse(line) as { wakeUps?: unknown }).wakeUps;
      if (typeof wakeUps === "string") return wakeUps;
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

/** schedule → checkin → command started for one real osad2-client, `tries` times. */
export async function latency(
  database: DatabaseChoice,
  options: BenchOptions,
  log: Log,
): Promise<LatencyResult> {
  const deployment = await benchDeployment(database, options);
  try {
    const system = await deployment.addSystem("latency0");
    const server = await deployment.startServer();
    const client = deployment.startClient("latency0");
    await deployment.waitOnline("latency0", 60_000);
    // Until a pong after its hello the server holds checkins for the hello's grace (250 ms):
    // the first try would measure that, not the path.
    await deployment.pingRounds("latency0", 1, 60_000);
    const store = await deployment.store();
    const notifyTrigger = deployment.pg
      ? Number(
          (
            await deployment.pg.query<{ n: unknown }>(
              `SELECT count(*) AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                 JOIN pg_namespace ns ON ns.oid = c.relnamespace
                WHERE ns.nspname = $1 AND c.relname = 'rhnserveraction' AND NOT t.tgisinternal`,
              [deployment.pg.schema],
            )
          )[0]?.n ?? 0,
        ) > 0
      : false;
    const wakeUps = serverWakeUps(server.lines);
    log(
      `${database}: client online (wake-ups: ${wakeUps ?? "not logged"}); ${options.tries} tries`,
    );
    const insert: number[] = [];
    const checkin: number[] = [];
    const started: number[] = [];
    const reaction: number[] = [];
    const failureSamples: string[] = [];
    let failures = 0;
    for (let i = 0; i < options.tries; i++) {
      const checkinsBefore = checkinTimes(client.lines).length;
      const runsBefore = (await deployment.runs()).length;
      const t = Date.now();
      const actionId = await retryBusy(() =>
        scheduleAction(store, {
          serverIds: [system.serverId],
          name: `latency try ${i}`,
        }),
      );
      const t0 = Date.now();
      insert.push(t0 - t);
      const deadline = t0 + 15_000;
      let got: { checkinAt: number; runAt: number } | undefined;
      while (Date.now() < deadline) {
        const times = checkinTimes(client.lines);
        const runs = await deployment.runs();
        const c = times[checkinsBefore];
        const r = runs[runsBefore];
        if (c !== undefined && r !== undefined) {
          got = { checkinAt: c, runAt: r.at };
          break;
        }
        await sleep(5);
      }
      if (got) {
        checkin.push(got.checkinAt - t0);
        started.push(got.runAt - t0);
        reaction.push(got.runAt - got.checkinAt);
      } else {
        failures++;
        if (failureSamples.length < 5)
          failureSamples.push(`try ${i}: no checkin and run within 15 s`);
      }
      // What rhn_check would report, so the next try starts with nothing due.
      await retryBusy(() =>
        setServerActionStatus(store, { serverId: system.serverId, actionId, status: 2 }),
      );
      // A random gap as long as the poll interval: without it each try would start at the same
      // phase of the server's poll timer (right after the poll that found the previous one).
      await sleep(50 + Math.floor(Math.random() * options.pollInterval * 1000));
      if ((i + 1) % 25 === 0) log(`${database}: ${i + 1}/${options.tries} tries`);
    }
    const baseline = await bareZeromqBaseline(options.tries, log);
    return {
      database,
      notifyTrigger,
      wakeUps,
      pollIntervalSeconds: options.pollInterval,
      tries: options.tries,
      failures,
      insert: distribution(insert),
      checkin: distribution(checkin),
      commandStarted: distribution(started),
      clientReaction: distribution(reaction),
      failureSamples,
      baseline,
    };
  } finally {
    await deployment.dispose();
  }
}
