import path from "node:path";
import { certificateLayout, readPublicKey } from "@osad2/keys";
import { sleep } from "@osad2/test-helpers";
import {
  ActionCompleter,
  cliPath,
  createSimSystems,
  Deployment,
  run,
  SimFleet,
  type DatabaseChoice,
  type ManagedProcess,
  type SimSystem,
} from "@osad2/testkit";
import { onInterrupt } from "./cleanup.js";
import { BenchDb } from "./db.js";
import type { BenchOptions } from "./options.js";
import { SimTracker } from "./tracker.js";

/** A phase did not finish in time; the bench reports what it saw up to then. */
export class BenchTimeoutError extends Error {
  override readonly name = "BenchTimeoutError";
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    state: string,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${state}`);
  }
}

/** Connecting clients that make no progress for this long are reported as stalled. */
const STALL_MS = 120_000;

/** Progress on stderr, with seconds since the bench started. */
export type Log = (message: string) => void;

export function makeLog(): Log {
  const t0 = Date.now();
  return (message) =>
    process.stderr.write(
      `[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`,
    );
}

/** A deployment for one database with the bench's server settings, migrated, server not started. */
export async function benchDeployment(
  database: DatabaseChoice,
  options: BenchOptions,
  extra: Record<string, string | number> = {},
): Promise<Deployment> {
  const deployment = await Deployment.create({
    database,
    pingInterval: options.pingInterval,
    echo: options.echo,
    ...(options.serverCli ? { bins: { server: options.serverCli } } : {}),
    serverConfig: {
      checkin_count: options.checkinCount,
      action_poll_interval: options.pollInterval,
      // Debug logs every ping answer: at 10,000 clients that alone would be the benchmark.
      debug: 0,
      ...extra,
    },
  });
  const forget = onInterrupt(() => deployment.dispose());
  const dispose = deployment.dispose.bind(deployment);
  deployment.dispose = async () => {
    forget();
    await dispose();
  };
  // Plain `init`, as the README's Deploying steps run it (it installs the NOTIFY trigger on
  // PostgreSQL by default; with --server-cli, whatever that build's init does).
  const args = [
    options.serverCli ?? cliPath("server"),
    "init",
    "--config",
    deployment.serverConfigPath,
  ];
  const result = await run(process.execPath, args);
  if (result.code !== 0) {
    await deployment.dispose();
    throw new Error(
      `osad2-server init failed (${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return deployment;
}

/**
 * Where a group of simulated clients connects: the server itself, or a proxy's listener with
 * the proxy's public key as their server key.
 */
export interface SimRoute {
  readonly publisherEndpoint: string;
  readonly listenerEndpoint: string;
  readonly serverPublicKey: string;
  readonly clients: readonly SimSystem[];
}

/** A process the bench depends on (a proxy): its death ends every wait at once. */
interface Watched {
  readonly name: string;
  readonly process: () => ManagedProcess | undefined;
}

/** The pieces of a bench with simulated clients, for one database. */
export class SimBench {
  readonly tracker: SimTracker;
  /** One fleet per route (connectAll). */
  fleets: SimFleet[] = [];
  systems: SimSystem[] = [];
  private readonly forgetFleets: (() => void)[] = [];
  private readonly watched: Watched[] = [];
  /** How long creating and registering the systems took. */
  registerMs = 0;
  private readonly byName = new Map<string, SimSystem>();

  private constructor(
    readonly deployment: Deployment,
    readonly db: BenchDb,
    readonly completer: ActionCompleter,
    readonly options: BenchOptions,
    readonly log: Log,
  ) {
    // A finished run completes that system's actions, as rhn_check would report them done.
    this.tracker = new SimTracker((name) => {
      const system = this.byName.get(name);
      if (system) completer.complete(system.serverId);
    });
  }

  /** Deployment + server + N registered systems with keys; clients not started yet. */
  static async create(
    database: DatabaseChoice,
    options: BenchOptions,
    log: Log,
  ): Promise<SimBench> {
    const deployment = await benchDeployment(database, options);
    try {
      log(`${database}: server starting (${deployment.dir})`);
      await deployment.startServer();
      return await SimBench.attach(deployment, options, log);
    } catch (error) {
      await deployment.dispose();
      throw error;
    }
  }

  /** N registered systems with keys on a deployment whose server runs; clients not started yet. */
  static async attach(deployment: Deployment, options: BenchOptions, log: Log): Promise<SimBench> {
    const completer = await ActionCompleter.open(
      deployment.pg
        ? { kind: "postgres", url: deployment.pg.url, schema: deployment.pg.schema }
        : { kind: "sqlite", file: deployment.databaseUrl.slice("sqlite:".length) },
    );
    const bench = new SimBench(deployment, new BenchDb(deployment), completer, options, log);
    const t0 = Date.now();
    bench.systems = await createSimSystems({
      store: await deployment.store(),
      certificates: deployment.certificates,
      count: options.clients,
      method: options.register,
      registrationUrl: deployment.registrationUrl,
      systemidDir: path.join(deployment.dir, "sim-systems"),
      progress: (n, phase) => log(`${phase} ${n}/${options.clients} systems`),
    });
    for (const s of bench.systems) bench.byName.set(s.name, s);
    bench.registerMs = Date.now() - t0;
    log(`${options.clients} systems registered via ${options.register} in ${bench.registerMs} ms`);
    return bench;
  }

  get serverIds(): number[] {
    return this.systems.map((s) => s.serverId);
  }

  /** The simulated clients' processes, over every fleet. */
  get pids(): number[] {
    return this.fleets.flatMap((fleet) => fleet.pids);
  }

  /** The route straight to the deployment's server, for every system. */
  async directRoute(): Promise<SimRoute> {
    const d = this.deployment;
    return {
      publisherEndpoint: `tcp://127.0.0.1:${d.ports.publisher}`,
      listenerEndpoint: `tcp://127.0.0.1:${d.ports.listener}`,
      serverPublicKey: await readPublicKey(certificateLayout(d.certificates).serverPublicPath),
      clients: this.systems,
    };
  }

  /** Ends every wait when this process exits (`process()` undefined = stopped on purpose). */
  watch(name: string, process: () => ManagedProcess | undefined): void {
    this.watched.push({ name, process });
  }

  /**
   * Starts the simulated clients (one fleet per route; default every system straight to the
   * server) and waits until every one is online in rhnPushClient.
   */
  async connectAll(routes?: readonly SimRoute[]): Promise<{ connectMs: number; onlineMs: number }> {
    const d = this.deployment;
    const t0 = Date.now();
    const groups = routes ?? [await this.directRoute()];
    const total = groups.reduce((sum, route) => sum + route.clients.length, 0);
    // In parallel: each fleet's start lasts its paced share of the whole start-up.
    const started = await Promise.allSettled(
      groups.map((route, i) =>
        SimFleet.start(
          {
            publisherEndpoint: route.publisherEndpoint,
            listenerEndpoint: route.listenerEndpoint,
            serverPublicKey: route.serverPublicKey,
            clients: route.clients,
            command: this.options.command,
            dir: path.join(d.dir, groups.length === 1 ? "sim" : `sim-${i}`),
            clientsPerProcess: this.options.clientsPerProcess,
            // The fleet-wide pace, shared among the routes by their clients.
            connectRate: (this.options.connectRate * route.clients.length) / total,
            echo: this.options.echo,
          },
          this.tracker.listener,
        ),
      ),
    );
    for (const result of started) {
      if (result.status !== "fulfilled") continue;
      const fleet = result.value;
      this.fleets.push(fleet);
      this.forgetFleets.push(onInterrupt(async () => void (await fleet.stop())));
    }
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    this.log(`${this.systems.length} simulated clients started in ${this.pids.length} processes`);
    const n = this.systems.length;
    let last = -1;
    let lastChange = Date.now();
    await this.waitUntil(
      "every simulated client connected (hello sent)",
      () => {
        const connected = this.tracker.connectedSince(t0);
        if (connected !== last) {
          last = connected;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > STALL_MS) {
          // No progress for minutes: report now instead of at the end of --timeout.
          throw new BenchTimeoutError(
            "every simulated client connected (hello sent)",
            STALL_MS,
            ` (stalled at ${connected}/${n} for ${STALL_MS / 1000} s)`,
          );
        }
        return connected >= n;
      },
      () => `${this.tracker.connectedSince(t0)}/${n} connected`,
    );
    const connectMs = Date.now() - t0;
    await this.waitUntil(
      "every simulated client online in rhnPushClient",
      async () => (await this.db.onlineCount()) >= n,
      async () => `${await this.db.onlineCount()}/${n} online`,
      { everyMs: 250 },
    );
    return { connectMs, onlineMs: Date.now() - t0 };
  }

  /**
   * Polls `check` until true, logging progress every 5 s; fails when the server or a
   * simulated-client process dies, or after the bench's timeout.
   */
  async waitUntil(
    what: string,
    check: () => boolean | Promise<boolean>,
    progress?: () => string | Promise<string>,
    { timeoutMs = this.options.timeoutSeconds * 1000, everyMs = 50 } = {},
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastLog = Date.now();
    for (;;) {
      // Not waitFor(): a dead process must end the wait at once, not be retried until the timeout.
      for (const fleet of this.fleets) if (fleet.failure) throw fleet.failure;
      for (const w of this.watched) {
        const child = w.process()?.child;
        if (child && (child.exitCode !== null || child.signalCode !== null))
          throw new Error(`${w.name} exited (${child.exitCode ?? child.signalCode})`);
      }
      const server = this.deployment.server;
      if (server && server.child.exitCode !== null) {
        throw new Error(
          `osad2-server exited (${server.child.exitCode}): ${server.lines.slice(-5).join(" | ")}`,
        );
      }
      if (await check()) return;
      if (Date.now() > deadline) {
        const state = progress ? ` (${await progress()})` : "";
        throw new BenchTimeoutError(what, timeoutMs, state);
      }
      if (progress && Date.now() - lastLog >= 5000) {
        lastLog = Date.now();
        this.log(`waiting for ${what}: ${await progress()}`);
      }
      await sleep(everyMs);
    }
  }

  async dispose(): Promise<void> {
    for (const forget of this.forgetFleets) forget();
    await Promise.all(this.fleets.map((fleet) => fleet.stop().catch(() => undefined)));
    await this.completer.close().catch(() => undefined);
    this.db.close();
    await this.deployment.dispose();
  }
}
