// tools/bench proxy: N simulated clients split evenly across P real osad2-proxy processes; a mass
// action through them, then the server killed and restarted behind them (issue 14 item 4).
import type { DatabaseChoice, ProxyHost } from "@osad2/testkit";
import { measureMassAction, type MassActionFigures } from "./fanout.js";
import { serverMetrics, type ServerMetrics } from "./metrics.js";
import { splitEvenly, type BenchOptions } from "./options.js";
import { cpuPercent, sampleProcess, type ProcSample } from "./proc.js";
import { benchDeployment, BenchTimeoutError, SimBench, type Log, type SimRoute } from "./setup.js";
import { measureRestart, type RestartFigures } from "./storm.js";

/** One osad2-proxy process over the bench. */
export interface ProxyFigures {
  readonly name: string;
  readonly clients: number;
  /** Linked, no client yet / every client online / at the end (after the restart storm). */
  readonly rssIdleMiB: number;
  readonly rssOnlineMiB: number | null;
  readonly rssEndMiB: number | null;
  /** (RSS online − idle) / its clients. */
  readonly rssPerClientKiB: number | null;
  readonly fdsOnline: number | null;
  /** % of one core: while its clients connected (CURVE + admission), the mass action, the restart storm. */
  readonly cpuPercentConnect: number | null;
  readonly cpuPercentMassAction: number | null;
  readonly cpuPercentRestart: number | null;
}

export interface ProxyResult {
  readonly database: DatabaseChoice;
  readonly clients: number;
  readonly proxies: number;
  /** Simulated-client processes (each connects to one proxy). */
  readonly processes: number;
  readonly registerMs: number;
  /** Start of the simulated clients → every one said hello to its proxy / is online (server's view). */
  readonly connectMs: number | null;
  readonly onlineMs: number | null;
  readonly clientsOnline: number;
  /** Throttle off (checkin_count 0 unless --checkin-count): INSERT → every client's checkin. */
  readonly massAction: MassActionFigures | null;
  /** --signal (default KILL) the server, --down seconds, start: every client online and served again. */
  readonly restart: RestartFigures | null;
  readonly proxy: readonly ProxyFigures[];
  /** The server with every client online (before the mass action), and the restarted one at the end. */
  readonly serverRssOnlineMiB: number | null;
  readonly serverRssEndMiB: number | null;
  readonly serverFdsOnline: number | null;
  readonly serverMetrics: ServerMetrics;
  readonly authFailures: number;
  readonly busyRefusals: number;
  readonly clientErrors: number;
  readonly errorSamples: readonly string[];
  readonly timedOut?: string;
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/** A sample of a running process; undefined once it is gone. */
function sample(pid: number | undefined): ProcSample | undefined {
  if (pid === undefined) return undefined;
  try {
    return sampleProcess(pid);
  } catch {
    return undefined;
  }
}

function cpu(from: ProcSample | undefined, to: ProcSample | undefined): number | null {
  return from === undefined || to === undefined ? null : cpuPercent(from, to);
}

/** The proxies' samples at each mark of the bench (idle, online, mass action done, end). */
class ProxySamples {
  private readonly marks = new Map<string, (ProcSample | undefined)[]>();

  constructor(private readonly hosts: readonly ProxyHost[]) {}

  has(mark: string): boolean {
    return this.marks.has(mark);
  }

  take(mark: string): void {
    this.marks.set(
      mark,
      this.hosts.map((h) => sample(h.process?.pid)),
    );
  }

  figures(clients: readonly number[]): ProxyFigures[] {
    const at = (mark: string, i: number): ProcSample | undefined => this.marks.get(mark)?.[i];
    return this.hosts.map((host, i) => {
      const idle = at("idle", i);
      const online = at("online", i);
      const n = clients[i] ?? 0;
      return {
        name: host.name,
        clients: n,
        rssIdleMiB: idle ? mib(idle.rssKiB) : Number.NaN,
        rssOnlineMiB: online ? mib(online.rssKiB) : null,
        rssEndMiB: at("end", i) ? mib((at("end", i) as ProcSample).rssKiB) : null,
        rssPerClientKiB:
          idle && online && n > 0 ? Math.round(((online.rssKiB - idle.rssKiB) / n) * 10) / 10 : null,
        fdsOnline: online?.fds ?? null,
        cpuPercentConnect: cpu(idle, online),
        cpuPercentMassAction: cpu(online, at("mass", i)),
        cpuPercentRestart: cpu(at("mass", i), at("end", i)),
      };
    });
  }
}

/** The route of one proxy's share of the clients: its listener and its public key. */
function routeThrough(host: ProxyHost, clients: SimRoute["clients"]): SimRoute {
  const endpoint = `tcp://127.0.0.1:${host.listenerPort}`;
  // Wire v3 uses the listener only; the publisher endpoint is there for the spec's sake.
  return {
    publisherEndpoint: endpoint,
    listenerEndpoint: endpoint,
    serverPublicKey: host.keyPair.publicKey,
    clients,
  };
}

/** N clients across P proxies: all online, a mass action, a restart storm behind the proxies. */
export async function proxyBench(
  database: DatabaseChoice,
  options: BenchOptions,
  log: Log,
): Promise<ProxyResult> {
  const deployment = await benchDeployment(database, options);
  let bench: SimBench | undefined;
  try {
    const hosts: ProxyHost[] = [];
    for (let i = 1; i <= options.proxies; i++) {
      // debug 0: the proxy's debug log is a line per message at thousands of clients.
      hosts.push(await deployment.addProxy(`bench-p${i}`, { config: { debug: 0 } }));
    }
    log(`${database}: server starting (${deployment.dir})`);
    await deployment.startServer();
    await Promise.all(hosts.map((h) => h.start()));
    log(`${hosts.length} proxies linked`);
    bench = await SimBench.attach(deployment, options, log);
    for (const h of hosts) bench.watch(`osad2-proxy ${h.name}`, () => h.process);
    const shares = splitEvenly(bench.systems, hosts.length);
    const routes = hosts.map((h, i) => routeThrough(h, shares[i] ?? []));
    const samples = new ProxySamples(hosts);
    samples.take("idle");
    const n = options.clients;
    let connectMs: number | null = null;
    let onlineMs: number | null = null;
    let massAction: MassActionFigures | null = null;
    let restart: RestartFigures | null = null;
    let serverOnline: ProcSample | undefined;
    let timedOut: string | undefined;
    try {
      ({ connectMs, onlineMs } = await bench.connectAll(routes));
      samples.take("online");
      serverOnline = sample(deployment.server?.pid);
      log(`all ${n} online through ${hosts.length} proxies after ${onlineMs} ms; mass action`);
      massAction = await measureMassAction(bench, `proxy bench (${n} systems)`, log);
      samples.take("mass");
      if (massAction.timedOut === undefined) {
        // The proxies keep their clients' connections; the clients hello again through them.
        restart = await measureRestart(bench, options, log, { reconnects: false });
      }
      samples.take("end");
    } catch (error) {
      if (!(error instanceof BenchTimeoutError)) throw error;
      timedOut = error.message;
      log(timedOut);
      // Where they stood when the phase gave up.
      if (!samples.has("online")) samples.take("online");
      serverOnline ??= sample(deployment.server?.pid);
    }
    const serverEnd = sample(deployment.server?.pid);
    const phaseTimeout = timedOut ?? massAction?.timedOut ?? restart?.timedOut;
    return {
      database,
      clients: n,
      proxies: hosts.length,
      processes: bench.pids.length,
      registerMs: bench.registerMs,
      connectMs,
      onlineMs,
      clientsOnline: await bench.db.onlineCount(),
      massAction,
      restart,
      proxy: samples.figures(shares.map((s) => s.length)),
      serverRssOnlineMiB: serverOnline ? Math.round(serverOnline.rssKiB / 1024) : null,
      serverRssEndMiB: serverEnd ? Math.round(serverEnd.rssKiB / 1024) : null,
      serverFdsOnline: serverOnline?.fds ?? null,
      serverMetrics: await serverMetrics(deployment),
      authFailures: bench.tracker.authFailures,
      busyRefusals: bench.tracker.busyRefusals,
      clientErrors: bench.tracker.errors,
      errorSamples: bench.tracker.errorSamples,
      ...(phaseTimeout ? { timedOut: phaseTimeout } : {}),
    };
  } finally {
    if (bench) await bench.dispose();
    else await deployment.dispose();
  }
}
