import type { DatabaseChoice } from "@osad2/testkit";
import { sleep } from "@osad2/test-helpers";
import { serverMetrics, type ServerMetrics } from "./metrics.js";
import type { BenchOptions } from "./options.js";
import { clockTicks, cpuPercent, sampleProcess, type ProcSample } from "./proc.js";
import { benchDeployment, SimBench, type Log } from "./setup.js";

export interface FootprintResult {
  readonly database: DatabaseChoice;
  readonly clients: number;
  readonly server: {
    /** RSS with no client connected (after start-up settled). */
    readonly rssIdleMiB: number;
    /** RSS with 1 real client, then with N simulated clients more. */
    readonly rssOneClientMiB: number;
    readonly rssWithClientsMiB: number;
    /** (RSS with N − RSS with 1) / N. */
    readonly rssPerClientKiB: number;
    readonly fdsIdle: number;
    readonly fdsWithClients: number;
    /** CPU over the idle window with 1 client, and with N clients connected (pings). */
    readonly cpuPercentOneClient: number;
    readonly cpuPercentWithClients: number;
    /**
     * PostgreSQL, over the window with N idle clients (null on SQLite): table scans per second
     * in the deployment's schema (≈ statements per second) and rows written per second
     * (BenchDb.tableActivity).
     */
    readonly dbScansPerSecond: number | null;
    readonly dbRowsWrittenPerSecond: number | null;
    /** Statements the server sent per second over that window (its osad2_db_statements_total); null with a server without it. */
    readonly dbStatementsPerSecond: number | null;
    /** With N clients, at the end of the window: V8 heap used / total and external memory (Buffers, zeromq messages). */
    readonly heapUsedMiB: number | null;
    readonly heapTotalMiB: number | null;
    readonly externalMiB: number | null;
    /** (V8 heap total with N − with 1) / N: the JavaScript share of rssPerClientKiB. */
    readonly heapPerClientKiB: number | null;
  };
  readonly client: {
    /** The real osad2-client process, idle (connected, nothing to do), over the window. */
    readonly rssStartMiB: number;
    readonly rssEndMiB: number;
    readonly cpuPercent: number;
    readonly cpuSeconds: number;
    readonly fds: number;
    readonly threads: number;
  };
  readonly windowSeconds: number;
  /** Simulated clients' processes, for comparison (not the real client). */
  readonly simProcessesRssMiB: number;
}

function perSecond(from: number | undefined, to: number | undefined, ms: number): number | null {
  if (from === undefined || to === undefined || ms <= 0) return null;
  return Math.round(((to - from) / (ms / 1000)) * 100) / 100;
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

async function settle(log: Log, seconds: number, why: string): Promise<void> {
  log(`settling ${seconds} s (${why})`);
  await sleep(seconds * 1000);
}

/** Server RSS per connected client; idle real-client RSS and CPU over a window. */
export async function footprint(
  database: DatabaseChoice,
  options: BenchOptions,
  log: Log,
): Promise<FootprintResult> {
  const deployment = await benchDeployment(database, options);
  let bench: SimBench | undefined;
  try {
    await deployment.addSystem("footprint-real");
    const server = await deployment.startServer();
    await settle(log, 5, "server start-up");
    const idle = sampleProcess(server.pid);
    log(`server idle: ${mib(idle.rssKiB)} MiB RSS; starting one real osad2-client`);
    const client = deployment.startClient("footprint-real");
    await deployment.waitOnline("footprint-real", 60_000);
    await settle(log, 5, "client start-up");
    const c0 = sampleProcess(client.pid);
    const s0 = sampleProcess(server.pid);
    log(`measuring the idle client and the server for ${options.idleSeconds} s`);
    await sleep(options.idleSeconds * 1000);
    const c1 = sampleProcess(client.pid);
    const s1 = sampleProcess(server.pid);
    const m1 = await serverMetrics(deployment);

    log(`connecting ${options.clients} simulated clients`);
    bench = await SimBench.attach(deployment, options, log);
    await bench.connectAll();
    // Two ping rounds, so every client's presence row and buffers exist.
    await settle(log, Math.max(5, 2 * options.pingInterval), "two ping rounds");
    const a2 = await bench.db.tableActivity();
    const m2 = await serverMetrics(deployment);
    const s2 = sampleProcess(server.pid);
    log(`measuring the server with ${options.clients + 1} clients for ${options.idleSeconds} s`);
    await sleep(options.idleSeconds * 1000);
    const s3 = sampleProcess(server.pid);
    const a3 = await bench.db.tableActivity();
    const m3 = await serverMetrics(deployment);
    const metric = (m: ServerMetrics, name: string): number | undefined => m[name];
    const mibOf = (bytes: number | undefined): number | null =>
      bytes === undefined ? null : Math.round((bytes / 1048576) * 10) / 10;
    const heap1 = metric(m1, "nodejs_heap_size_total_bytes");
    const heap3 = metric(m3, "nodejs_heap_size_total_bytes");
    const sims: ProcSample[] = bench.pids.map((pid) => sampleProcess(pid));
    return {
      database,
      clients: options.clients,
      server: {
        rssIdleMiB: mib(idle.rssKiB),
        rssOneClientMiB: mib(s1.rssKiB),
        rssWithClientsMiB: mib(s3.rssKiB),
        rssPerClientKiB: Math.round(((s3.rssKiB - s1.rssKiB) / options.clients) * 10) / 10,
        fdsIdle: idle.fds,
        fdsWithClients: s3.fds,
        cpuPercentOneClient: cpuPercent(s0, s1),
        cpuPercentWithClients: cpuPercent(s2, s3),
        dbScansPerSecond: perSecond(a2?.scans, a3?.scans, s3.at - s2.at),
        dbRowsWrittenPerSecond: perSecond(a2?.rowsWritten, a3?.rowsWritten, s3.at - s2.at),
        dbStatementsPerSecond: perSecond(
          metric(m2, "osad2_db_statements_total"),
          metric(m3, "osad2_db_statements_total"),
          s3.at - s2.at,
        ),
        heapUsedMiB: mibOf(metric(m3, "nodejs_heap_size_used_bytes")),
        heapTotalMiB: mibOf(heap3),
        externalMiB: mibOf(metric(m3, "nodejs_external_memory_bytes")),
        heapPerClientKiB:
          heap1 === undefined || heap3 === undefined
            ? null
            : Math.round(((heap3 - heap1) / 1024 / options.clients) * 10) / 10,
      },
      client: {
        rssStartMiB: mib(c0.rssKiB),
        rssEndMiB: mib(c1.rssKiB),
        cpuPercent: cpuPercent(c0, c1),
        cpuSeconds: Math.round(((c1.cpuTicks - c0.cpuTicks) / clockTicks()) * 100) / 100,
        fds: c1.fds,
        threads: c1.threads,
      },
      windowSeconds: options.idleSeconds,
      simProcessesRssMiB: mib(sims.reduce((a, s) => a + s.rssKiB, 0)),
    };
  } finally {
    if (bench) await bench.dispose();
    else await deployment.dispose();
  }
}
