import type { DatabaseChoice } from "@osad2/testkit";
import { installInterruptHandler } from "./cleanup.js";
import { fanout } from "./fanout.js";
import { footprint } from "./footprint.js";
import { latency } from "./latency.js";
import { machineInfo } from "./machine.js";
import {
  BenchUsageError,
  DEFAULT_BENCH_OPTIONS,
  OSAD2_TOPOLOGY,
  descriptorProblem,
  parseBenchFlags,
  proxyProblem,
  type BenchOptions,
} from "./options.js";
import { compareWithRaw } from "./raw/compare.js";
import { raw } from "./raw/raw.js";
import { proxyBench } from "./proxy.js";
import { makeLog, type Log } from "./setup.js";
import { storm } from "./storm.js";

export const BENCH_USAGE = `usage: tools/bench <command> [flags]     (one JSON document on stdout, progress on stderr)
  latency   [--tries 100] [--db sqlite|postgres|both]      schedule → checkin → command started, 1 real client,
            (--poll-interval 5: the server's default config)   and a bare-zeromq baseline
  fanout    [--clients 1000] [--db postgres|sqlite|both]   mass action to N simulated CURVE clients
  storm     [--clients 1000] [--signal TERM|KILL] [--down 5] server restart with N clients, actions scheduled while down
  footprint [--clients 1000] [--idle 60]                   server RSS per client; idle real client RSS and CPU
  proxy     [--clients 1000] [--proxies 3] [--down 5]      N clients split across P real osad2-proxy processes:
            (--checkin-count 0, --signal KILL)             all online, a mass action, the server killed and
                                                           restarted behind them; proxies' RSS and CPU
  raw       [--clients 1000] [--down 5] [--topology single|pair] [--steady 30]
                                                           the same work by bare zeromq.js (same sockets, CURVE, ZAP);
            single: ROUTER/DEALER only; pair: PUB+ROUTER/SUB+DEALER (default: what osad2 runs);
            also the raw server's event-loop lag in the restart storm and its CPU with N pinged idle clients;
            fanout, storm, footprint and proxy run it too and print osad2/raw ratios (--no-raw skips it)
common flags: --register xmlrpc|store (default xmlrpc)  --checkin-count 100  --ping-interval 10
  --poll-interval 1 (latency, footprint: 5)  --clients-per-process 1000  --connect-rate 200 (clients/s; 0 = all at once)
  --command PATH|none (spawned per checkin by each simulated client; default none)
  --timeout 900 (s per phase)  --server-cli PATH (another server build)  --echo (output to stderr)`;

type Runner = (database: DatabaseChoice, options: BenchOptions, log: Log) => Promise<unknown>;

const COMMANDS: Record<string, { run: Runner; defaults: Partial<BenchOptions> }> = {
  // The server's own action_poll_interval: latency measures the default configuration.
  latency: { run: latency, defaults: { db: "both", pollInterval: 5 } },
  fanout: { run: fanout, defaults: {} },
  storm: { run: storm, defaults: {} },
  // Steady state as deployed: the server's default action_poll_interval (5 s), not the 1 s
  // the other benches use to bound their waits (every poll is statements against the target).
  footprint: { run: footprint, defaults: { pollInterval: 5 } },
  // No database: one run, labelled postgres only because the loop below wants one.
  raw: { run: (_database, options, log) => raw(options, log), defaults: { db: "postgres" } },
  // Throttle off and kill -9: the mass action and the restart storm of issue 14 item 4.
  proxy: { run: proxyBench, defaults: { checkinCount: 0, signal: "SIGKILL" } },
};

const COMPARED = new Set(["fanout", "storm", "footprint", "proxy"]);

/**
 * `tools/bench <command> [flags]`: runs one bench (per database for `--db both`) and prints
 * one JSON document: the machine, the command line, the options and the results. Returns
 * the exit code: 0 when every run finished, 1 when one failed (the document says why),
 * 2 for a usage error.
 */
export async function runBench(argv: readonly string[]): Promise<number> {
  const [command, ...flags] = argv;
  const entry = command === undefined ? undefined : COMMANDS[command];
  if (command === "-h" || command === "--help") {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  if (!entry) {
    process.stderr.write(
      `tools/bench: unknown command ${JSON.stringify(command ?? "")}\n${BENCH_USAGE}\n`,
    );
    return 2;
  }
  let options: BenchOptions;
  try {
    options = parseBenchFlags(flags, { ...DEFAULT_BENCH_OPTIONS, ...entry.defaults });
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`tools/bench: ${error.message}\n${BENCH_USAGE}\n`);
    return 2;
  }
  const machine = machineInfo();
  const softLimit = Number(machine.openFilesLimit.split("/")[0]);
  const topology = command === "raw" ? options.topology : OSAD2_TOPOLOGY;
  const tooMany =
    command === "latency"
      ? undefined
      : command === "proxy"
        ? proxyProblem(options.clients, options.proxies, softLimit)
        : descriptorProblem(options.clients, topology, softLimit);
  if (tooMany !== undefined) {
    process.stderr.write(`tools/bench: ${tooMany}\n`);
    return 2;
  }
  const log = makeLog();
  installInterruptHandler(log);
  const databases: DatabaseChoice[] = options.db === "both" ? ["sqlite", "postgres"] : [options.db];
  const results: unknown[] = [];
  const errors: { database: string; error: string }[] = [];
  const started = Date.now();
  for (const database of databases) {
    try {
      results.push(await entry.run(database, options, log));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${command} on ${database} failed: ${message}`);
      errors.push({ database, error: message });
    }
  }
  let comparison: unknown;
  if (options.raw && command !== undefined && COMPARED.has(command) && results.length > 0) {
    try {
      // Like with like: the raw sockets are the topology osad2 runs, whatever --topology says.
      const baseline = await raw({ ...options, topology: OSAD2_TOPOLOGY }, log);
      comparison = { raw: baseline, ratios: compareWithRaw(command, results, baseline) };
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`raw baseline failed: ${message}`);
      errors.push({ database: "raw", error: message });
    }
  }
  const document = {
    bench: command,
    command: `tools/bench ${argv.join(" ")}`,
    machine,
    options,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    results,
    ...(comparison === undefined ? {} : { comparison }),
    ...(errors.length > 0 ? { errors } : {}),
  };
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return errors.length > 0 ? 1 : 0;
}
