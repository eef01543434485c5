import fs from "node:fs/promises";
import Database from "better-sqlite3";
import path from "node:path";
import {
  certificateLayout,
  createServerKeyPair,
  generateKeyPair,
  KeyStore,
  readPublicKey,
  writeCertificate,
  type KeyPair,
} from "@osad2/keys";
import { openStore, type SpacewalkStore } from "@osad2/server";
import { createSystem, scheduleAction } from "@osad2/server/testing";
import { iniSection } from "./ini.js";
import { freePorts } from "@osad2/test-helpers";
import { createTestSchema, type TestSchema } from "@osad2/test-helpers";
import { type ManagedProcess, run, startCli, cliPath } from "./process.js";
import { ProxyHost } from "./proxy-host.js";
import { readRuns, writeRecorderScript, type RecordedRun } from "./recorder.js";
import { tempDir } from "@osad2/test-helpers";
import { waitFor } from "@osad2/test-helpers";

/** The real client's debug log line for a ping received (JSON, pino). */
const PING_LINE = /"msg":"ping"/;

export interface PushClientRow extends Record<string, unknown> {
  readonly name: string;
  readonly state: string;
}

export type DatabaseChoice = "sqlite" | "postgres";

export interface DeploymentOptions {
  readonly database: DatabaseChoice;
  /** Seconds between presence pings (fractions allowed); short in tests. */
  readonly pingInterval?: number;
  /** More `[main]` keys for the server config. */
  readonly serverConfig?: Record<string, string | number | boolean | undefined>;
  /** Paths of installed CLIs (the "installed as users install it" test); default: the workspace builds. */
  readonly bins?: { readonly server?: string; readonly client?: string };
  /** Echo process output to stderr. */
  readonly echo?: boolean;
  /** Keep the directory after dispose() (demo). */
  readonly dir?: string;
}

export interface SystemHandle {
  readonly label: string;
  readonly serverId: number;
  readonly dir: string;
  readonly configPath: string;
  readonly systemidPath: string;
  readonly keyPair: KeyPair;
}

/**
 * One osad2 installation on this machine: a server (as its CLI, a real process), its
 * database (a SQLite file or a PostgreSQL schema of its own), certificates, and any
 * number of systems each with its own key pair, systemid and client config.
 */
export class Deployment {
  readonly dir: string;
  readonly certificates: string;
  readonly serverConfigPath: string;
  readonly runLog: string;
  server: ManagedProcess | undefined;
  readonly clients = new Map<string, ManagedProcess>();
  readonly systems = new Map<string, SystemHandle>();
  readonly proxies = new Map<string, ProxyHost>();
  private storeHandle: SpacewalkStore | undefined;
  private recorder = "";
  private readonly stoppers: Array<() => void> = [];

  private constructor(
    readonly options: DeploymentOptions,
    readonly ports: {
      publisher: number;
      listener: number;
      xmlrpc: number;
      metrics: number;
      /** The server's proxy_port (osad2 proxies link here). */
      proxy: number;
    },
    readonly databaseUrl: string,
    readonly pg: TestSchema | undefined,
    private readonly removeDir: (() => Promise<void>) | undefined,
    dir: string,
  ) {
    this.dir = dir;
    this.certificates = path.join(dir, "server", "certs");
    this.serverConfigPath = path.join(dir, "server", "osad_server.cfg");
    this.runLog = path.join(dir, "runs.log");
  }

  /**
   * A running deployment: created, `init`ed, one system per label, the server up and every
   * label's client process online in rhnPushClient.
   */
  static async launch(options: DeploymentOptions, labels: readonly string[]): Promise<Deployment> {
    const d = await Deployment.create(options);
    try {
      await d.init();
      for (const label of labels) await d.addSystem(label);
      await d.startServer();
      for (const label of labels) d.startClient(label);
      for (const label of labels) await d.waitOnline(label, 60_000);
    } catch (error) {
      await d.dispose();
      throw error;
    }
    return d;
  }

  static async create(options: DeploymentOptions): Promise<Deployment> {
    let dir: string;
    let remove: (() => Promise<void>) | undefined;
    if (options.dir) {
      dir = options.dir;
      await fs.mkdir(dir, { recursive: true });
    } else {
      const tmp = await tempDir("osad2-deploy-");
      dir = tmp.path;
      remove = tmp.remove;
    }
    const [publisher, listener, xmlrpc, metrics, proxy] = (await freePorts(5)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    let pg: TestSchema | undefined;
    let databaseUrl: string;
    if (options.database === "postgres") {
      pg = await createTestSchema();
      databaseUrl = pg.url;
    } else {
      databaseUrl = `sqlite:${path.join(dir, "server", "osad2.db")}`;
    }
    const d = new Deployment(
      options,
      { publisher, listener, xmlrpc, metrics, proxy },
      databaseUrl,
      pg,
      remove,
      dir,
    );
    await fs.mkdir(path.join(dir, "server"), { recursive: true });
    await createServerKeyPair(d.certificates);
    await d.writeServerConfig();
    d.recorder = await writeRecorderScript(dir, d.runLog);
    return d;
  }

  get registrationUrl(): string {
    return `http://127.0.0.1:${this.ports.xmlrpc}/XMLRPC`;
  }

  /** Writes the server config (`extra` wins); to `file` for a second server, else the default path. */
  async writeServerConfig(
    extra: Record<string, string | number | boolean | undefined> = {},
    file: string = this.serverConfigPath,
  ): Promise<void> {
    const body = iniSection("main", {
      database: this.databaseUrl,
      database_schema: this.pg?.schema,
      certificates: this.certificates,
      // The deployment's own, never the machine's /var/lib/osad2.
      state_dir: path.join(this.dir, "server", "state"),
      bind: "127.0.0.1",
      public_host: "127.0.0.1",
      publisher_port: this.ports.publisher,
      listener_port: this.ports.listener,
      // A free port of its own (never 5558: parallel tests), known to proxies the test starts.
      proxy_port: this.ports.proxy,
      xmlrpc_port: this.ports.xmlrpc,
      metrics_port: this.ports.metrics,
      metrics_bind: "127.0.0.1",
      ping_interval: this.options.pingInterval ?? 1,
      // Short: it also paces the web-UI ping checks; due work arrives by NOTIFY or the SQLite file watch.
      action_poll_interval: 0.25,
      checkin_count: 0,
      debug: 1,
      ...this.options.serverConfig,
      ...extra,
    });
    await fs.writeFile(file, body);
  }

  /** A store of the deployment's database, for the test's own writes (systems, actions). */
  async store(): Promise<SpacewalkStore> {
    // A name of its own, so terminateConnections() hits the server's connections, not the test's.
    const url = this.pg
      ? this.databaseUrl.replace(
          `application_name=${this.pg.applicationName}`,
          `application_name=${this.pg.applicationName}_test`,
        )
      : this.databaseUrl;
    this.storeHandle ??= await openStore(url, { schema: this.pg?.schema });
    return this.storeHandle;
  }

  /**
   * `osad2-server init`: migrates the standalone schema (keys already exist); on PostgreSQL
   * it installs the NOTIFY trigger, as it does by default for an administrator.
   */
  async init(): Promise<void> {
    const bin = this.options.bins?.server;
    const args = ["init", "--config", this.serverConfigPath];
    const result = bin
      ? await run(bin, args)
      : await run(process.execPath, [cliPath("server"), ...args]);
    if (result.code !== 0) {
      throw new Error(
        `osad2-server init failed (${result.code}):\n${result.stdout}\n${result.stderr}`,
      );
    }
  }

  /** Starts `osad2-server run` and waits until /healthz answers 200. */
  async startServer(): Promise<ManagedProcess> {
    const server = startCli("server", ["run", "--config", this.serverConfigPath], {
      name: "server",
      echo: this.options.echo,
      binPath: this.options.bins?.server,
    });
    this.server = server;
    await waitFor(
      "osad2-server /healthz 200",
      async () => {
        if (server.child.exitCode !== null) {
          throw new Error(`osad2-server exited: ${server.lines.slice(-10).join("\n")}`);
        }
        const res = await fetch(`http://127.0.0.1:${this.ports.metrics}/healthz`);
        return res.status === 200;
      },
      { timeoutMs: 60_000, everyMs: 100 },
    );
    return server;
  }

  async stopServer(signal: NodeJS.Signals = "SIGTERM"): Promise<number | string | undefined> {
    const server = this.server;
    this.server = undefined;
    return server?.kill(signal);
  }

  /** A Spacewalk system (rhnServer row, signed systemid) with its own client key pair and config. */
  async addSystem(
    label: string,
    clientConfig: Record<string, string | number | boolean | undefined> = {},
    /** Behind this proxy: the client connects to it and trusts its key, not the server's. */
    behind?: ProxyHost,
  ): Promise<SystemHandle> {
    const store = await this.store();
    const { system, systemIdXml } = await createSystem(store, { name: label });
    const dir = path.join(this.dir, "clients", label);
    const certs = path.join(dir, "certs");
    await fs.mkdir(certs, { recursive: true, mode: 0o700 });
    const keyPair = generateKeyPair();
    await writeCertificate(path.join(certs, "client.key_secret"), keyPair);
    const serverPublic =
      behind === undefined
        ? await readPublicKey(certificateLayout(this.certificates).serverPublicPath)
        : behind.keyPair.publicKey;
    await writeCertificate(path.join(certs, "server.key"), { publicKey: serverPublic });
    const keys = await KeyStore.open(this.certificates);
    try {
      await keys.add(label, keyPair.publicKey);
    } finally {
      await keys.close();
    }
    const systemidPath = path.join(dir, "systemid");
    await fs.writeFile(systemidPath, systemIdXml);
    const configPath = path.join(dir, "osad_client.cfg");
    await fs.writeFile(
      configPath,
      iniSection("osad", {
        systemid: systemidPath,
        server_url: this.registrationUrl,
        certificates: certs,
        server_public_key: path.join(certs, "server.key"),
        client_secret_key: path.join(certs, "client.key_secret"),
        rhn_check_command: this.recorderCommand(label),
        registry_interval: 1,
        run_at_start: 0,
        jitter: 0,
        state_file: path.join(dir, "state.json"),
        debug_level: 1,
        ...(behind === undefined ? {} : { server_host: `127.0.0.1:${behind.listenerPort}` }),
        ...clientConfig,
      }),
    );
    const handle = { label, serverId: system.id, dir, configPath, systemidPath, keyPair };
    this.systems.set(label, handle);
    return handle;
  }

  /**
   * A proxy host (not started): its key admitted in the server's proxies/, upstream the
   * server's proxy_port, or `parent`'s child-proxy port when given.
   */
  async addProxy(
    name: string,
    options: {
      readonly parent?: ProxyHost;
      readonly config?: Record<string, string | number | boolean | undefined>;
    } = {},
  ): Promise<ProxyHost> {
    const parent = options.parent;
    const host = await ProxyHost.create({
      name,
      dir: path.join(this.dir, "proxies", name),
      serverCertificates: this.certificates,
      upstreamPort: parent === undefined ? this.ports.proxy : parent.proxyPort,
      upstreamPublicKey:
        parent === undefined
          ? await readPublicKey(certificateLayout(this.certificates).serverPublicPath)
          : parent.keyPair.publicKey,
      echo: this.options.echo,
      ...(options.config === undefined ? {} : { config: options.config }),
    });
    this.proxies.set(name, host);
    return host;
  }

  startClient(label: string): ManagedProcess {
    const system = this.systems.get(label);
    if (!system) throw new Error(`no system ${label}`);
    const client = startCli("client", ["run", "--config", system.configPath], {
      name: `client-${label}`,
      echo: this.options.echo,
      binPath: this.options.bins?.client,
    });
    this.clients.set(label, client);
    return client;
  }

  async stopClient(label: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.clients.get(label)?.kill(signal);
    this.clients.delete(label);
  }

  /** The system's rhnPushClient row with its state label, read straight from the database. */
  async pushClient(label: string): Promise<PushClientRow | undefined> {
    const system = this.systems.get(label);
    if (!system) throw new Error(`no system ${label}`);
    const rows = await this.sql<PushClientRow>(
      `SELECT pc.name AS name, s.label AS state FROM rhnpushclient pc
         JOIN rhnpushclientstate s ON s.id = pc.state_id WHERE pc.server_id = ${Number(system.serverId)}`,
    );
    return rows[0];
  }

  /** SQL against the deployment's database (SQLite and PostgreSQL both fold unquoted names). */
  async sql<R extends Record<string, unknown>>(query: string): Promise<R[]> {
    if (this.pg) return this.pg.query<R>(query);
    const db = new Database(this.databaseUrl.slice("sqlite:".length), {
      fileMustExist: true,
      // The server writes too; waiting for its lock is normal, more so on a loaded machine.
      timeout: 30_000,
    });
    try {
      const statement = db.prepare(query);
      if (statement.reader) return statement.all() as R[];
      statement.run();
      return [];
    } finally {
      db.close();
    }
  }

  /**
   * Plays Spacewalk's part after rhn_check: each recorded run completes (status 2) the
   * system's queued and picked-up actions created before it ran, as the real rhn_check
   * reports them done.
   */
  emulateSpacewalk(everyMs = 100): () => void {
    let seen = 0;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        const runs = await this.runs();
        for (const run of runs.slice(seen)) {
          const system = this.systems.get(run.label);
          if (!system) continue;
          // Only what existed when rhn_check ran: an action scheduled after it is still due.
          const ranAt = new Date(run.at).toISOString();
          await this.sql(
            `UPDATE rhnserveraction SET status = 2
              WHERE server_id = ${Number(system.serverId)} AND status IN (0, 1) AND created <= '${ranAt}'`,
          );
        }
        seen = runs.length;
      })()
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, everyMs);
    const stop = () => clearInterval(timer);
    this.stoppers.push(stop);
    return stop;
  }

  async waitOnline(label: string, timeoutMs = 30_000): Promise<string> {
    const found = await waitFor(
      `system ${label} online in rhnPushClient`,
      async () => {
        const pc = await this.pushClient(label);
        return pc?.state === "online" ? pc.name : undefined;
      },
      { timeoutMs, everyMs: 100 },
    );
    return found;
  }

  /**
   * Waits until the system's client has received `rounds` more presence pings (its debug log
   * says "ping"). The server sends pings and checkins over the same PUB connection, in order,
   * so every checkin published before them has arrived by then: the event a test anchors
   * "nothing more came" on, instead of a fixed wait that load can shorten.
   */
  async pingRounds(label: string, rounds = 2, timeoutMs = 30_000): Promise<void> {
    const client = this.clients.get(label);
    if (!client) throw new Error(`no client running for ${label}`);
    const pings = (): number => client.matching(PING_LINE).length;
    const target = pings() + rounds;
    await waitFor(`${rounds} more pings to ${label}'s client`, () => pings() >= target, {
      timeoutMs,
    });
  }

  async schedule(
    labels: readonly string[],
    options: { earliest?: Date; type?: string; prerequisite?: number } = {},
  ): Promise<number> {
    const store = await this.store();
    const serverIds = labels.map((l) => {
      const s = this.systems.get(l);
      if (!s) throw new Error(`no system ${l}`);
      return s.serverId;
    });
    return scheduleAction(store, { serverIds, ...options });
  }

  /** The rhn_check_command that records a run under `label` in this deployment's run log. */
  recorderCommand(label: string): string {
    return `${this.recorder} ${label}`;
  }

  runs(): Promise<RecordedRun[]> {
    return readRuns(this.runLog);
  }

  async dispose(): Promise<void> {
    for (const stop of this.stoppers.splice(0)) stop();
    await Promise.all([...this.clients.values()].map((c) => c.kill("SIGKILL")));
    this.clients.clear();
    await Promise.all([...this.proxies.values()].map((p) => p.stop("SIGKILL")));
    this.proxies.clear();
    await this.server?.kill("SIGKILL");
    this.server = undefined;
    await this.storeHandle?.close();
    await this.pg?.drop();
    await this.removeDir?.();
  }
}
