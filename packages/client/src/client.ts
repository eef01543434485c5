import { EventEmitter } from "node:events";
import { type Logger, describeError, silentLogger } from "@osad2/service-kit";
import type { ClientConfig } from "./config.js";
import { KeyConfigError } from "./errors.js";
import {
  DEFAULT_RETRY_DELAY_MS,
  Executor,
  type ExecutorOptions,
  type RunRecord,
} from "./executor.js";
import { type ClientKeys, loadClientKeys } from "./keyfiles.js";
import { Registrar } from "./registrar.js";
import type { RegistrationTransport } from "./registration-subprocess.js";
import { type RegistrationReply, resolveEndpoints } from "./registration.js";
import { planClientReload } from "./reload-plan.js";
import { type ClientState, type ClientStatus, StateWriter, summarizeRun } from "./state.js";
import { type AuthFailure, Subscriber, type SubscriberEvents } from "./subscriber.js";
import { CLIENT_VERSION } from "./version.js";

/** How long `stop()` lets a running rhn_check finish by default (the unit allows 90 s). */
export const DEFAULT_STOP_GRACE_MS = 60_000;
// The state file is rewritten on every change, but pings alone refresh it at most this often.
const PING_STATE_WRITE_MS = 60_000;

export interface ClientOptions {
  /** Default: a silent logger (the CLI passes the service's logger). */
  readonly logger?: Logger;
  /** Pause before retrying a failed rhn_check. Default {@link DEFAULT_RETRY_DELAY_MS}. */
  readonly retryDelayMs?: number;
  /** First ZeroMQ reconnect interval. Default: 1-2 s, random per client. */
  readonly reconnectIntervalMs?: number;
  /** Reconnect back-off ceiling. Default 60 s. */
  readonly reconnectMaxIntervalMs?: number;
  /** stat() interval of the systemid file. Default 10 s. */
  readonly systemidPollMs?: number;
  /** Write config.stateFile on changes. Default true. */
  readonly writeState?: boolean;
  /** Wait this long for the server's challenge before speaking the seed format. Default 10 s. */
  readonly challengeTimeoutMs?: number;
  /**
   * How register_osad is called. Default: in this process. osad2-client run passes a
   * {@link SubprocessRegistration}, so the service never loads the HTTP/TLS stack.
   */
  readonly registration?: RegistrationTransport;
}

/** Events of an {@link OsadClient}; there is no "error" event. */
export type ClientEvents = {
  /** The server asked this system to check in (a run follows, see 'run'). */
  checkin: SubscriberEvents["checkin"];
  /** An rhn_check run finished. */
  run: [RunRecord];
  connected: SubscriberEvents["connected"];
  disconnected: SubscriberEvents["disconnected"];
  /** The server refused the CURVE handshake (revoked or unknown key, wrong server key). */
  "auth-failure": [AuthFailure];
  /** register_osad succeeded (the client name may have changed). */
  registered: [RegistrationReply];
  /** register_osad failed; retried after registry_interval. */
  "registration-failed": [{ readonly error: Error; readonly retryInMs: number }];
};

/** The osad2 client service: registration, subscriber and executor together. */
export interface OsadClient extends EventEmitter<ClientEvents> {
  /**
   * Reads the keys (throws KeyConfigError), runs rhn_check once if run_at_start, and starts
   * registering and connecting in the background. Resolves without waiting for the server.
   */
  start(): Promise<void>;
  /** Closes sockets and lets a running rhn_check finish for up to graceMs (default 60 s). */
  stop(graceMs?: number): Promise<void>;
  /**
   * SIGHUP: applies a new config and re-reads the keys (throws KeyConfigError if they are bad,
   * keeping the running ones). Registers again only when server_url, ca_cert or systemid
   * changed (a new client name); reconnects under the same name when server_host, a port or
   * a key changed; otherwise the connection stays as it is.
   */
  reload(config: ClientConfig): Promise<void>;
  /** A snapshot of what the state file holds. */
  status(): ClientStatus;
  /** The rhn_check executor (to run it by hand: `client.executor.request("manual")`). */
  readonly executor: Executor;
}

/** Creates (but does not start) the client for a loaded config. */
export function createClient(config: ClientConfig, options: ClientOptions = {}): OsadClient {
  return new Client(config, options);
}

class Client extends EventEmitter<ClientEvents> implements OsadClient {
  readonly executor: Executor;
  private config: ClientConfig;
  private readonly options: ClientOptions;
  private readonly log: Logger;
  private keys: ClientKeys | undefined;
  private registrar: Registrar | undefined;
  private subscriber: Subscriber | undefined;
  private state: StateWriter | undefined;
  private current: {
    state: ClientState;
    startedAt: string;
    registration: ClientStatus["registration"];
    lastRegistrationError: ClientStatus["lastRegistrationError"];
    connected: boolean;
    since: string | null;
    lastPingAt: string | null;
    authFailures: number;
    lastAuthFailure: ClientStatus["connection"]["lastAuthFailure"];
  };
  private lastPingWrite = 0;
  private stopping: Promise<void> | undefined;

  constructor(config: ClientConfig, options: ClientOptions) {
    super();
    this.config = config;
    this.options = options;
    this.log = options.logger ?? silentLogger();
    this.executor = new Executor(this.executorOptions(config));
    this.executor.on("start", () => this.save());
    this.executor.on("run", (run) => {
      this.save();
      this.emit("run", run);
    });
    this.current = {
      state: "stopped",
      startedAt: new Date().toISOString(),
      registration: null,
      lastRegistrationError: null,
      connected: false,
      since: null,
      lastPingAt: null,
      authFailures: 0,
      lastAuthFailure: null,
    };
  }

  private executorOptions(config: ClientConfig): ExecutorOptions {
    return {
      command: config.rhnCheckCommand,
      verbose: config.debugLevel > 0,
      jitterMs: config.jitter * 1000,
      timeoutMs: config.rhnCheckTimeout * 1000,
      retryDelayMs: this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      logger: this.log.child({ component: "executor" }),
    };
  }

  async start(): Promise<void> {
    if (this.registrar) return;
    this.keys = await loadClientKeys(this.config);
    if (this.options.writeState ?? true) {
      this.state = new StateWriter(this.config.stateFile, this.log);
    }
    this.current.startedAt = new Date().toISOString();
    this.log.info(
      { version: CLIENT_VERSION, serverUrl: this.config.serverUrl, pid: process.pid },
      "osad2-client starting",
    );
    this.setState("registering");
    if (this.config.runAtStart) this.executor.request("start");
    this.startRegistrar();
  }

  private startRegistrar(): void {
    const config = this.config;
    const registrar = new Registrar({
      serverUrl: config.serverUrl,
      caCert: config.caCert,
      systemidPath: config.systemid,
      retryIntervalMs: config.registryInterval * 1000,
      ...(this.options.systemidPollMs !== undefined
        ? { systemidPollMs: this.options.systemidPollMs }
        : {}),
      ...(this.options.registration !== undefined ? { transport: this.options.registration } : {}),
      logger: this.log.child({ component: "registration" }),
    });
    registrar.on("registered", (reply) => void this.onRegistered(registrar, reply));
    registrar.on("failed", ({ error, retryInMs }) => {
      this.current.lastRegistrationError = { at: new Date().toISOString(), message: error.message };
      if (this.current.registration === null) this.setState("registering");
      else this.save();
      this.emit("registration-failed", { error, retryInMs });
    });
    this.registrar = registrar;
    registrar.start();
  }

  private async onRegistered(registrar: Registrar, reply: RegistrationReply): Promise<void> {
    if (await this.connect(registrar, reply, "registered")) this.emit("registered", reply);
  }

  /**
   * Connects under `reply`'s name with the current config and keys, replacing the connection of
   * an earlier registration or of the same one (a reload that changed connection settings).
   * @returns false when the registration is unusable or outdated (nothing connected).
   */
  private async connect(
    registrar: Registrar,
    reply: RegistrationReply,
    why: "registered" | "reconnect",
  ): Promise<boolean> {
    const config = this.config;
    let fileKey: string | undefined;
    try {
      // Read again on every connection: an operator may have installed or replaced it.
      fileKey = (await loadClientKeys(config)).serverPublicKey;
    } catch (error) {
      registrar.retryLater(error instanceof Error ? error : new Error(describeError(error)));
      return false;
    }
    const serverPublicKey = fileKey ?? reply.serverPublicKey;
    if (serverPublicKey === undefined) {
      registrar.retryLater(
        new KeyConfigError(
          config.serverPublicKey,
          "missing",
          `no server public key: ${config.serverPublicKey} does not exist and the registration reply has none — copy the server's public_keys/server.key there`,
        ),
      );
      return false;
    }
    if (registrar !== this.registrar || this.stopping) return false;
    const endpoints = resolveEndpoints(reply, config);
    if (endpoints.source === "server_host" && (reply.listenerEndpoint ?? reply.jabberServer)) {
      this.log.info(
        {
          servers: endpoints.servers.map((s) => s.listenerEndpoint),
          replyEndpoint: reply.listenerEndpoint ?? reply.jabberServer,
        },
        "server_host is set: connecting to it rather than to the registration reply's endpoint",
      );
    }
    await this.subscriber?.stop();
    if (registrar !== this.registrar || this.stopping) return false;
    const subscriber = new Subscriber({
      clientName: reply.clientName,
      ...(reply.sharedKey === undefined ? {} : { sharedKey: reply.sharedKey }),
      ...(this.options.challengeTimeoutMs !== undefined
        ? { challengeTimeoutMs: this.options.challengeTimeoutMs }
        : {}),
      ...endpoints,
      serverPublicKey,
      clientKeyPair: (this.keys as ClientKeys).clientKeyPair,
      ...(this.options.reconnectIntervalMs !== undefined
        ? { reconnectIntervalMs: this.options.reconnectIntervalMs }
        : {}),
      ...(this.options.reconnectMaxIntervalMs !== undefined
        ? { reconnectMaxIntervalMs: this.options.reconnectMaxIntervalMs }
        : {}),
      lastRun: () => {
        const run = this.executor.lastRun;
        return run
          ? { at: Math.floor((run.startedAt + run.durationMs) / 1000), exitCode: run.exitCode }
          : null;
      },
      logger: this.log.child({ component: "subscriber" }),
    });
    this.wire(subscriber);
    this.subscriber = subscriber;
    const registeredAt =
      why === "reconnect" && this.current.registration !== null
        ? this.current.registration.registeredAt
        : new Date().toISOString();
    this.current.registration = {
      clientName: reply.clientName,
      serverUrl: config.serverUrl,
      registeredAt,
      ...endpoints,
      serverKeySource: fileKey !== undefined ? "file" : "reply",
    };
    this.current.lastRegistrationError = null;
    this.setConnected(false);
    this.setState("connecting");
    subscriber.start();
    return true;
  }

  private wire(subscriber: Subscriber): void {
    const mine = (): boolean => subscriber === this.subscriber;
    subscriber.on("checkin", (checkin) => {
      if (!mine()) return;
      this.emit("checkin", checkin);
      this.executor.request("checkin");
    });
    subscriber.on("ping", ({ at }) => {
      if (!mine()) return;
      this.current.lastPingAt = new Date(at).toISOString();
      if (at - this.lastPingWrite >= PING_STATE_WRITE_MS) {
        this.lastPingWrite = at;
        this.save();
      }
    });
    subscriber.on("connected", (event) => {
      if (!mine()) return;
      this.setConnected(true);
      this.setState("connected");
      this.emit("connected", event);
    });
    subscriber.on("disconnected", (event) => {
      if (!mine() || this.stopping) return;
      this.setConnected(false);
      this.setState("disconnected");
      this.emit("disconnected", event);
    });
    subscriber.on("unknown-client", () => {
      if (!mine() || this.stopping) return;
      // Our name was registered again elsewhere (or our key replaced): a fresh registration
      // gives this system a name and key the server knows.
      this.registrar?.reregister("the server does not know this client");
    });
    subscriber.on("auth-failure", (failure) => {
      if (!mine()) return;
      this.current.authFailures += 1;
      this.current.lastAuthFailure = {
        at: new Date().toISOString(),
        message: `${failure.event}${failure.detail ? ` (${failure.detail})` : ""} at ${failure.endpoint}`,
      };
      this.setConnected(false);
      this.setState("auth-failure");
      this.emit("auth-failure", failure);
    });
  }

  private setConnected(connected: boolean): void {
    if (this.current.connected !== connected) {
      this.current.connected = connected;
      this.current.since = new Date().toISOString();
    }
  }

  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ graceMs }, "osad2-client stopping");
      this.registrar?.stop();
      await this.subscriber?.stop();
      this.subscriber = undefined;
      this.setConnected(false);
      await this.executor.drain(graceMs);
      this.setState("stopped");
      await this.state?.flush();
      this.log.info("osad2-client stopped");
    })();
    return this.stopping;
  }

  async reload(config: ClientConfig): Promise<void> {
    if (this.stopping) return;
    const keys = await loadClientKeys(config);
    const plan = planClientReload(
      { config: this.config, keys: this.keys ?? keys },
      { config, keys },
    );
    const stateMoved = config.stateFile !== this.config.stateFile;
    this.config = config;
    this.keys = keys;
    this.executor.configure(this.executorOptions(config));
    if (stateMoved && (this.options.writeState ?? true)) {
      this.state = new StateWriter(config.stateFile, this.log);
      this.save();
    }
    if (plan.restartNeeded.length > 0) {
      this.log.warn(
        { keys: plan.restartNeeded },
        `${plan.restartNeeded.join(", ")} changed: restart osad2-client to apply`,
      );
    }
    const registrar = this.registrar;
    if (registrar === undefined) return;
    if (plan.register.length > 0) {
      // Every register_osad gives this system a new name: only when what it registers with changed.
      this.log.info(
        { configPath: config.configPath, changed: plan.register },
        `configuration reloaded; registration settings changed (${plan.register.join(", ")}): registering again`,
      );
      registrar.stop();
      this.startRegistrar();
      return;
    }
    registrar.setRetryInterval(config.registryInterval * 1000);
    const reply = registrar.registration;
    if (plan.reconnect.length > 0 && reply !== undefined) {
      this.log.info(
        { configPath: config.configPath, changed: plan.reconnect },
        `configuration reloaded; connection settings changed (${plan.reconnect.join(", ")}): reconnecting, registration unchanged`,
      );
      await this.connect(registrar, reply, "reconnect");
      return;
    }
    this.log.info(
      { configPath: config.configPath },
      "configuration reloaded; registration unchanged",
    );
  }

  status(): ClientStatus {
    const c = this.current;
    const last = this.executor.lastRun;
    return {
      state: c.state,
      pid: process.pid,
      version: CLIENT_VERSION,
      startedAt: c.startedAt,
      updatedAt: new Date().toISOString(),
      registration: c.registration,
      lastRegistrationError: c.lastRegistrationError,
      connection: {
        connected: c.connected,
        since: c.since,
        lastPingAt: c.lastPingAt,
        authFailures: c.authFailures,
        lastAuthFailure: c.lastAuthFailure,
      },
      running: this.executor.running,
      lastRun: last ? summarizeRun(last) : null,
    };
  }

  private setState(state: ClientState): void {
    this.current.state = state;
    this.save();
  }

  private save(): void {
    this.state?.write(this.status());
  }
}
