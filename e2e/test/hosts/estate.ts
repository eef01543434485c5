// osad2 on the test's hosts: the server(s) and clients as their real CLIs (the built dist/
// bins, as every e2e test runs them), each inside its host's namespace. The database, keys,
// systems and the rhn_check recorder are a testkit Deployment's; only where the processes
// run and which addresses they use differ. PostgreSQL is reached from inside namespaces
// through its unix socket; the test's own queries stay on 127.0.0.1 in the root namespace.
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { certificateLayout, readPublicKey } from "@osad2/keys";
import { waitFor } from "@osad2/test-helpers";
import {
  cliPath,
  Deployment,
  ProxyHost,
  readRuns,
  run,
  startProcess,
  type ManagedProcess,
  type RecordedRun,
  type SystemHandle,
} from "@osad2/testkit";
import type { TestNetwork } from "./network.js";

/** A proxy's log line once it holds a link session with a parent. */
const PROXY_LINKED = /"msg":"linked"/;

/** e2e/test/hosts/tcp-relay.mjs: a proxy host's pass-through of register_osad to the servers. */
const RELAY_SCRIPT = fileURLToPath(new URL("./tcp-relay.mjs", import.meta.url));

/** The server's log line once every socket is bound (its /healthz is not reachable from here). */
export const SERVER_RUNNING = /"msg":"osad2-server running"/;

/** PostgreSQL's unix socket directory on this machine. */
const PG_SOCKET_DIR = process.env.OSAD2_TEST_PG_SOCKET ?? "/var/run/postgresql";

/** The same database and parameters as `tcpUrl`, over PostgreSQL's unix socket (`?host=DIR`). */
export function socketDatabaseUrl(tcpUrl: string, socketDir = PG_SOCKET_DIR): string {
  const url = new URL(tcpUrl);
  const params = new URLSearchParams(url.search);
  params.delete("host");
  const auth = url.password ? `${url.username}:${url.password}` : url.username;
  // The directory unencoded: a "%2F" would be an interpolation error in the INI config.
  const rest = params.size > 0 ? `&${params.toString()}` : "";
  return `postgres://${auth}@${url.pathname}?host=${socketDir}${rest}`;
}

export interface EstateOptions {
  /** The LAN servers listen on and clients (direct ones) reach them over. */
  readonly lan: string;
  /** Seconds between presence pings. */
  readonly pingInterval?: number;
  /** More `[main]` keys for every server. */
  readonly serverConfig?: Record<string, string | number | boolean | undefined>;
  /**
   * Hosts of a failover set: every server gets `failover_servers` listing each one's address
   * on the LAN and the listener port (the same on every host: each has its own addresses).
   */
  readonly failoverHosts?: readonly string[];
}

/** A system of the estate: a Deployment system on a host. */
export interface PlacedSystem extends SystemHandle {
  readonly host: string;
}

/** One server process an estate ran on a host, and when the test ended it. */
export interface ServerProcessRun {
  readonly process: ManagedProcess;
  endedAt: number | undefined;
}

export class Estate {
  readonly servers = new Map<string, ManagedProcess>();
  /** Every server process per host, in order (a failover set's history, see notifying.ts). */
  readonly serverRuns = new Map<string, ServerProcessRun[]>();
  readonly clients = new Map<string, ManagedProcess>();
  readonly systems = new Map<string, PlacedSystem>();
  readonly proxies = new Map<string, ManagedProcess>();
  /** Each proxy host's installation (keys admitted at the servers, certs, config), by host. */
  readonly proxyHosts = new Map<string, ProxyHost>();
  private readonly relays: ManagedProcess[] = [];

  private constructor(
    readonly network: TestNetwork,
    readonly deployment: Deployment,
    readonly options: EstateOptions,
  ) {}

  /** A PostgreSQL deployment (schema, keys, `osad2-server init`) for servers on the given LAN. */
  static async create(network: TestNetwork, options: EstateOptions): Promise<Estate> {
    const deployment = await Deployment.create({
      database: "postgres",
      pingInterval: options.pingInterval,
      serverConfig: options.serverConfig,
    });
    const estate = new Estate(network, deployment, options);
    try {
      await deployment.writeServerConfig(estate.serverKeys());
      await deployment.init();
    } catch (error) {
      await deployment.dispose();
      throw error;
    }
    return estate;
  }

  /** What differs for a server in a namespace: socket database URL, every address, its own state. */
  private serverKeys(hostName?: string): Record<string, string> {
    const keys: Record<string, string> = {
      database: socketDatabaseUrl(this.deployment.databaseUrl),
      bind: "*",
      xmlrpc_bind: "*",
    };
    if (this.options.failoverHosts !== undefined) keys.failover_servers = this.failoverServers();
    if (hostName === undefined) return keys;
    return {
      ...keys,
      public_host: this.network.host(hostName).addressOn(this.options.lan),
      state_dir: path.join(this.deployment.dir, "server", `state-${hostName}`),
    };
  }

  /** The failover set as clients reach it: `address:listener_port,…` (a client's server_host). */
  failoverServers(): string {
    return (this.options.failoverHosts ?? [])
      .map(
        (h) =>
          `${this.network.host(h).addressOn(this.options.lan)}:${this.deployment.ports.listener}`,
      )
      .join(",");
  }

  serverConfigPath(hostName: string): string {
    return path.join(this.deployment.dir, "server", `${hostName}.cfg`);
  }

  /**
   * `osad2-server run` on the host; resolves once it logs `ready` (by default that it is
   * running: a lone server's sockets are bound then; a failover member's role is in ACTIVE or
   * STANDBY of notifying.ts).
   */
  async startServer(hostName: string, ready: RegExp = SERVER_RUNNING): Promise<ManagedProcess> {
    const config = this.serverConfigPath(hostName);
    await this.deployment.writeServerConfig(this.serverKeys(hostName), config);
    const server = this.start(hostName, "server", `server@${hostName}`, [
      "run",
      "--config",
      config,
    ]);
    this.servers.set(hostName, server);
    const runs = this.serverRuns.get(hostName) ?? [];
    runs.push({ process: server, endedAt: undefined });
    this.serverRuns.set(hostName, runs);
    await server.waitForLine(ready, 60_000);
    return server;
  }

  /**
   * A one-shot `osad2-server COMMAND --config …` (systems, status, doctor) on the host, where
   * it asks that host's running server; resolves with its exit code and output.
   */
  serverCommand(
    hostName: string,
    command: "systems" | "status" | "doctor",
    args: readonly string[] = [],
  ): Promise<{ code: number | string; stdout: string; stderr: string }> {
    const argv = this.network
      .host(hostName)
      .command([
        process.execPath,
        cliPath("server"),
        command,
        "--config",
        this.serverConfigPath(hostName),
        ...args,
      ]);
    return run(argv[0]!, argv.slice(1), { timeoutMs: 30_000 });
  }

  /** Ends the host's server; resolves with the time of the signal (a SIGKILL's end). */
  async stopServer(hostName: string, signal: NodeJS.Signals): Promise<number> {
    const server = this.servers.get(hostName);
    const at = Date.now();
    await server?.kill(signal);
    const run = this.serverRuns.get(hostName)?.find((r) => r.process === server);
    if (run) run.endedAt = signal === "SIGKILL" ? at : Date.now();
    this.servers.delete(hostName);
    return at;
  }

  /** The host's server processes as a failover member (notifying.ts's checks). */
  serverMember(hostName: string): { name: string; history: ServerProcessRun[] } {
    return { name: hostName, history: this.serverRuns.get(hostName) ?? [] };
  }

  /** The registration URL of the server on `hostName`, at its address on the estate's LAN. */
  registrationUrl(hostName: string): string {
    const address = this.network.host(hostName).addressOn(this.options.lan);
    return `http://${address}:${this.deployment.ports.xmlrpc}/XMLRPC`;
  }

  /**
   * A Spacewalk system whose client runs on `hostName`; `clientConfig` (e.g. server_url,
   * server_host, server_public_key) wins over the deployment's defaults.
   */
  async addSystem(
    label: string,
    hostName: string,
    clientConfig: Record<string, string | number | boolean | undefined>,
    behind?: ProxyHost,
  ): Promise<PlacedSystem> {
    this.network.host(hostName); // fails early on a typo
    const handle = await this.deployment.addSystem(label, clientConfig, behind);
    const system = { ...handle, host: hostName };
    this.systems.set(label, system);
    return system;
  }

  /** `osad2-client run` on the system's host. */
  startClient(label: string): ManagedProcess {
    const system = this.system(label);
    const client = this.start(system.host, "client", `client-${label}`, [
      "run",
      "--config",
      system.configPath,
    ]);
    this.clients.set(label, client);
    // Deployment.pingRounds reads the client's lines from here.
    this.deployment.clients.set(label, client);
    return client;
  }

  /**
   * An osad2 proxy on `hostName` (named after it), its parents the servers on `upstreamHosts`
   * at their addresses on `upstreamLan` (their proxy_port); its key admitted at the servers.
   * testkit's ProxyHost lays it out; only its addresses differ. Not started yet.
   */
  async addProxy(
    hostName: string,
    upstreamLan: string,
    upstreamHosts: readonly string[],
  ): Promise<ProxyHost> {
    const port = this.deployment.ports.proxy;
    const upstream = upstreamHosts.map(
      (h) => `${this.network.host(h).addressOn(upstreamLan)}:${port}`,
    );
    const proxy = await ProxyHost.create({
      name: hostName,
      dir: path.join(this.deployment.dir, "proxies", hostName),
      serverCertificates: this.deployment.certificates,
      upstreamPort: port,
      upstreamPublicKey: await readPublicKey(
        certificateLayout(this.deployment.certificates).serverPublicPath,
      ),
      // Every address of the host (each LAN it is on); the servers of the failover set.
      config: { bind: "*", upstream: upstream.join(",") },
    });
    this.proxyHosts.set(hostName, proxy);
    return proxy;
  }

  /** `osad2-proxy run` on its host; resolves once it is linked to a parent. */
  async startProxy(hostName: string): Promise<ManagedProcess> {
    const proxy = this.start(hostName, "proxy", `proxy@${hostName}`, [
      "run",
      "--config",
      this.proxyHost(hostName).configPath,
    ]);
    this.proxies.set(hostName, proxy);
    await proxy.waitForLine(PROXY_LINKED, 60_000);
    return proxy;
  }

  /** Ends the host's proxy; resolves with the time of the signal. */
  async stopProxy(hostName: string, signal: NodeJS.Signals): Promise<number> {
    const at = Date.now();
    await this.proxies.get(hostName)?.kill(signal);
    this.proxies.delete(hostName);
    return at;
  }

  /**
   * What a Spacewalk proxy's web server does for its systems, on `hostName`: passes
   * register_osad (the XML-RPC port) on to the servers on `upstreamHosts` (first that
   * answers). Resolves once it listens.
   */
  async startRegistrationRelay(
    hostName: string,
    upstreamLan: string,
    upstreamHosts: readonly string[],
  ): Promise<void> {
    const port = this.deployment.ports.xmlrpc;
    const targets = upstreamHosts.map(
      (h) => `${this.network.host(h).addressOn(upstreamLan)}:${port}`,
    );
    const [command, ...argv] = this.network
      .host(hostName)
      .command([process.execPath, RELAY_SCRIPT, String(port), ...targets]);
    const relay = startProcess(command!, argv, { name: `relay@${hostName}` });
    this.relays.push(relay);
    await relay.waitForLine(/^relay listening/, 30_000);
  }

  /**
   * A system on `hostName` whose client reaches the servers only through the proxy on
   * `proxyHost` (its address on `lan`): server_host is the proxy, server_public_key the
   * proxy's key, server_url the proxy host's registration relay.
   */
  async addSystemBehindProxy(
    label: string,
    hostName: string,
    proxyHost: string,
    lan: string,
  ): Promise<PlacedSystem> {
    const proxy = this.proxyHost(proxyHost);
    const address = this.network.host(proxyHost).addressOn(lan);
    return this.addSystem(
      label,
      hostName,
      {
        server_url: `http://${address}:${this.deployment.ports.xmlrpc}/XMLRPC`,
        server_host: `${address}:${proxy.listenerPort}`,
      },
      proxy,
    );
  }

  proxyHost(hostName: string): ProxyHost {
    const proxy = this.proxyHosts.get(hostName);
    if (!proxy) throw new Error(`no proxy on ${hostName}`);
    return proxy;
  }

  system(label: string): PlacedSystem {
    const system = this.systems.get(label);
    if (!system) throw new Error(`no system ${label}`);
    return system;
  }

  /** A workspace CLI (`node …/dist/cli.js`) inside the host's namespace. */
  start(
    hostName: string,
    pkg: "server" | "client" | "proxy",
    name: string,
    args: readonly string[],
  ): ManagedProcess {
    const [command, ...argv] = this.network
      .host(hostName)
      .command([process.execPath, cliPath(pkg), ...args]);
    return startProcess(command!, argv, { name });
  }

  /** rhn_check runs recorded on the client hosts, in order. */
  runs(): Promise<RecordedRun[]> {
    return readRuns(this.deployment.runLog);
  }

  /**
   * The first recorded run of each label at or after `since` (epoch ms), waiting until every
   * label has one. Each run is a client's rhn_check, written on its own host.
   */
  async firstRunsSince(
    labels: readonly string[],
    since: number,
    timeoutMs = 60_000,
  ): Promise<Map<string, number>> {
    return waitFor(
      `an rhn_check run on each of ${labels.join(", ")}`,
      async () => {
        const first = new Map<string, number>();
        for (const run of await this.runs()) {
          if (run.at >= since && labels.includes(run.label) && !first.has(run.label)) {
            first.set(run.label, run.at);
          }
        }
        return first.size === labels.length ? first : undefined;
      },
      { timeoutMs, everyMs: 50 },
    );
  }

  async dispose(): Promise<void> {
    const all = [
      ...this.clients.values(),
      ...this.proxies.values(),
      ...this.relays,
      ...this.servers.values(),
    ];
    await Promise.all(all.map((p) => p.kill("SIGKILL")));
    this.clients.clear();
    this.proxies.clear();
    this.relays.length = 0;
    this.servers.clear();
    this.deployment.clients.clear();
    await this.deployment.dispose();
  }

  /** The deployment's directory, for configs and logs a test writes beside the others. */
  get dir(): string {
    return this.deployment.dir;
  }

  /** Writes a file under the deployment's directory. */
  async writeFile(relative: string, text: string): Promise<string> {
    const file = path.join(this.deployment.dir, relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
    return file;
  }
}
