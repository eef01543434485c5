import { KeyStore } from "@osad2/keys";
import type * as zmq from "zeromq";
import { backoffDelay } from "./backoff.js";
import { changedFields, normalizeServerConfig, RELOADABLE_FIELDS } from "./config.js";
import type { ServerConfig } from "./config-schema.js";
import { openStore } from "./db/index.js";
import type { PrepareOptions, SpacewalkStore } from "./db/types.js";
import { ServerStateError } from "./errors.js";
import {
  TypedEmitter,
  type AuthFailureEvent,
  type ServerEventListener,
  type ServerEventName,
} from "./events.js";
import { probe, type HealthReport } from "./health.js";
import { startMetricsEndpoint, type MetricsEndpoint } from "./http-endpoint.js";
import { silentLogger, type Logger } from "./logger.js";
import { ServerMetrics } from "./metrics.js";
import { Notifier, type NotifyResult } from "./notifier.js";
import { DEFAULT_UI_PING_TIMEOUT_MS, Presence } from "./presence.js";
import { LogRateLimiter } from "./rate-limit.js";
import { startRegistrationEndpoint, type RegistrationEndpoint } from "./registration-endpoint.js";
import { createZmqContext } from "./zmq/context.js";
import { runListener } from "./zmq/listener.js";
import { ServerSockets } from "./zmq/sockets.js";
import { ZapHandler, type ZapRejection } from "./zmq/zap.js";

/** Default of {@link CreateServerOptions.catchUpDelayMs}. */
export const DEFAULT_CATCH_UP_DELAY_MS = 250;

/** Lifecycle states of a server. */
export type ServerState = "new" | "starting" | "running" | "stopping" | "stopped";

/** Library-only options of {@link createServer} (not in the config file). */
export interface CreateServerOptions {
  /** Where to log. Default: nothing (the CLI passes its pino logger). */
  readonly logger?: Logger;
  /** Use this open store instead of opening `database`; the server then does not close it. */
  readonly store?: SpacewalkStore;
  /**
   * Run store.prepare() at start. Default: true for SQLite (standalone), false for PostgreSQL
   * (a Spacewalk database is never altered unless asked; `osad2-server init` asks).
   */
  readonly prepare?: boolean | PrepareOptions;
  /** Deadline for answering a web-UI ping. Default 20,000 ms (osa-dispatcher's). */
  readonly uiPingTimeoutMs?: number;
  /** Export Node process metrics (memory, event loop) too. Default true. */
  readonly processMetrics?: boolean;
  /** After a client's hello, wait this long (or for its pong) before addressing it, so its SUB subscription is in place; then re-announce its due work. Default 250 ms. */
  readonly catchUpDelayMs?: number;
  /** Coalesce key revocations arriving within this window into one re-bind. Default 200 ms. */
  readonly revocationDebounceMs?: number;
}

/** Where a running server can be reached (ports resolved when configured as 0). */
export interface ServerEndpoints {
  readonly publisher: string;
  readonly listener: string;
  readonly publisherPort: number;
  readonly listenerPort: number;
  /** XML-RPC URL, or null when xmlrpc_port is 0. */
  readonly xmlrpc: string | null;
  readonly xmlrpcPort: number | null;
  /** Metrics port, or null when metrics_port is 0. */
  readonly metricsPort: number | null;
}

/** What {@link Osad2Server.reload} did. */
export interface ReloadResult {
  /** Settings now in effect. */
  readonly applied: readonly (keyof ServerConfig)[];
  /** Settings that changed but need a restart (sockets, database, ports). */
  readonly restartNeeded: readonly (keyof ServerConfig)[];
}

/** A running (or runnable) osad2 server. */
export interface Osad2Server {
  readonly state: ServerState;
  /** The effective configuration. */
  readonly config: ServerConfig;
  /** Opens keys and database, binds ZAP, PUB, ROUTER, XML-RPC and metrics, then starts presence and notifier. */
  start(): Promise<void>;
  /** Drains: finishes the round in progress and pending writes, then closes everything. Idempotent. */
  stop(): Promise<void>;
  /** Publishes a checkin at once for a client name or a server id (custom tooling). */
  notify(target: number | string): Promise<NotifyResult>;
  /** Rescans the key store and applies a new configuration where possible (SIGHUP). */
  reload(config?: Partial<ServerConfig>): Promise<ReloadResult>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends ServerEventName>(event: E, listener: ServerEventListener<E>): () => void;
  /** Resolved endpoints; throws ServerStateError before start. */
  endpoints(): ServerEndpoints;
  /** What /healthz reports. */
  health(): Promise<HealthReport>;
}

/** Creates a server from a (partial) configuration; throws ConfigError on bad values. */
export function createServer(
  config: Partial<ServerConfig> = {},
  options: CreateServerOptions = {},
): Osad2Server {
  return new Server(normalizeServerConfig(config), options);
}

/** Everything start() brought up, torn down in reverse by stop(). */
interface Running {
  keyStore: KeyStore;
  store: SpacewalkStore;
  ownStore: boolean;
  context?: zmq.Context;
  zap?: ZapHandler;
  sockets?: ServerSockets;
  listenerLoop?: Promise<void>;
  presence?: Presence;
  notifier?: Notifier;
  metricsEndpoint?: MetricsEndpoint;
  registration?: RegistrationEndpoint;
  stopListen?: () => Promise<void>;
  unwatchKeys?: () => void;
}

class Server implements Osad2Server {
  state: ServerState = "new";
  config: ServerConfig;
  private readonly logger: Logger;
  private readonly events: TypedEmitter;
  private readonly metrics: ServerMetrics;
  private readonly authLog = new LogRateLimiter(10, 60_000);
  private readonly dbErrorLog = new LogRateLimiter(5, 60_000);
  private running: Running | undefined;
  private revocationTimer: NodeJS.Timeout | undefined;
  private rebinding: Promise<void> | undefined;
  private listenTimer: NodeJS.Timeout | undefined;
  private listenFailures = 0;

  constructor(
    config: ServerConfig,
    private readonly options: CreateServerOptions,
  ) {
    this.config = config;
    this.logger = options.logger ?? silentLogger();
    this.events = new TypedEmitter(this.logger);
    this.metrics = new ServerMetrics(() => this.running?.presence?.onlineCount ?? 0, {
      processMetrics: options.processMetrics,
    });
  }

  on<E extends ServerEventName>(event: E, listener: ServerEventListener<E>): () => void {
    return this.events.on(event, listener);
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new ServerStateError(this.state, "start");
    this.state = "starting";
    try {
      await this.bringUp();
      this.state = "running";
      this.logger.info({ endpoints: this.endpoints() }, "osad2-server running");
    } catch (error) {
      await this.tearDown();
      this.state = "stopped";
      throw error;
    }
  }

  private async bringUp(): Promise<void> {
    const config = this.config;
    const keyStore = await KeyStore.open(config.certificates, {
      onError: (error) => this.logger.warn({ err: error }, "key store problem"),
    });
    const ownStore = this.options.store === undefined;
    let store: SpacewalkStore;
    try {
      store =
        this.options.store ??
        (await openStore(
          config.database,
          config.databaseSchema === "" ? {} : { schema: config.databaseSchema },
        ));
    } catch (error) {
      await keyStore.close();
      throw error;
    }
    const running: Running = { keyStore, store, ownStore };
    this.running = running;
    const keyPair = await keyStore.readServerKeyPair();

    const prepare = this.options.prepare ?? store.kind === "sqlite";
    if (prepare !== false) {
      const result = await store.prepare(prepare === true ? {} : prepare);
      this.logger.info(result, "database schema checked");
    }

    running.context = createZmqContext();
    // ZAP first: a socket bound before its handler exists would let handshakes through.
    running.zap = await ZapHandler.start({
      context: running.context,
      keys: keyStore,
      logger: this.logger,
      onReject: (rejection) => this.authFailure(rejection),
    });
    running.sockets = await ServerSockets.open({
      context: running.context,
      bind: config.bind,
      publisherPort: config.publisherPort,
      listenerPort: config.listenerPort,
      keyPair,
      logger: this.logger,
      onHandshakeFailure: ({ endpoint, code }) =>
        this.authFailure({ address: endpoint, reason: "handshake", detail: code }),
    });
    const sockets = running.sockets;
    const publish = (frame: Buffer) => sockets.publish(frame);

    const presence = new Presence({
      store,
      publish,
      logger: this.logger,
      pingIntervalMs: config.pingInterval * 1000,
      missedPings: config.missedPings,
      uiCheckIntervalMs: config.actionPollInterval * 1000,
      uiPingTimeoutMs: this.options.uiPingTimeoutMs ?? DEFAULT_UI_PING_TIMEOUT_MS,
      helloGraceMs: this.options.catchUpDelayMs ?? DEFAULT_CATCH_UP_DELAY_MS,
      onOnline: (clientName) => {
        this.logger.info({ clientName }, "client online");
        this.events.emit("online", { clientName });
      },
      onContact: (clientName) => notifier.catchUp(clientName),
      onOffline: (names) => {
        for (const clientName of names) this.events.emit("offline", { clientName });
      },
      onDbError: (error) => this.dbError(error, "presence"),
    });
    running.presence = presence;
    const notifier = new Notifier({
      store,
      publish,
      isOnline: (name) => presence.isReachable(name),
      logger: this.logger,
      ...notifierSettings(config),
      onPublished: (event, firstTime, at) => {
        this.metrics.notificationsPublished.inc();
        for (const action of firstTime) {
          this.metrics.notifyLatency.observe(
            Math.max(0, (at.getTime() - action.earliestAction.getTime()) / 1000),
          );
        }
        this.events.emit("notified", event);
      },
      onDbError: (error) => this.dbError(error, "poll"),
      onDbOk: () => undefined,
    });
    running.notifier = notifier;

    const catchUpDelay = this.options.catchUpDelayMs ?? DEFAULT_CATCH_UP_DELAY_MS;
    running.listenerLoop = runListener(
      sockets.messages(),
      {
        onPong: (clientName) => presence.answered(clientName, "pong"),
        onHello: (clientName, hello) => {
          this.logger.debug(
            { clientName, software: hello.software, lastRun: hello.lastRun },
            "client hello",
          );
          presence.answered(clientName, "hello");
          // A (re)connected client may have missed checkins while away. Its hello says both
          // sockets are connected, not that the PUB has processed its subscription (another
          // TCP connection): presence keeps it unaddressed for the grace, then this re-announces.
          notifier.catchUp(clientName, catchUpDelay);
        },
        onMalformed: (reason, routingId) => {
          this.metrics.malformedMessages.inc({ reason });
          this.logger.debug({ reason, routingId }, "malformed client message dropped");
        },
      },
      this.logger,
    );

    if (config.metricsPort !== 0) {
      running.metricsEndpoint = await startMetricsEndpoint({
        host: config.metricsBind,
        port: config.metricsPort,
        metrics: this.metrics,
        health: () => this.health(),
        logger: this.logger,
      });
    }

    try {
      await presence.refresh();
    } catch (error) {
      this.dbError(error, "presence");
    }
    presence.start();
    notifier.start();
    this.startListening(running);
    running.unwatchKeys = keyStore.watch((change) => {
      if (change.type === "removed") this.keyRemoved(change.key.name);
    });

    if (config.xmlrpcPort !== 0) {
      running.registration = await startRegistrationEndpoint({
        store,
        host: config.xmlrpcBind === "" ? config.bind : config.xmlrpcBind,
        port: config.xmlrpcPort,
        tlsCert: config.tlsCert,
        tlsKey: config.tlsKey,
        publicHost: config.publicHost,
        publisherPort: sockets.publisherPort,
        listenerPort: sockets.listenerPort,
        serverPublicKey: keyPair.publicKey,
        logger: this.logger,
      });
    }
  }

  /** PostgreSQL LISTEN for instant wake-ups; retried with back-off while the database is away. */
  private startListening(running: Running): void {
    const attempt = async (): Promise<void> => {
      try {
        const stop = await running.store.listen(() => running.notifier?.wake(), {
          onEvent: (event) => {
            if (event.type === "listening") {
              if (event.reconnected) this.logger.info("LISTEN connection re-established");
              // Anything scheduled while the connection was down has sent no NOTIFY we heard.
              running.notifier?.wake();
            } else {
              // Reconnects by itself (back-off in the database layer); polls cover the gap.
              this.dbError(event.error, "listen");
            }
          },
        });
        if (this.running !== running || this.state === "stopping" || this.state === "stopped") {
          await stop();
          return;
        }
        running.stopListen = stop;
        this.listenFailures = 0;
      } catch (error) {
        this.listenFailures += 1;
        this.dbError(error, "listen");
        if (this.running === running && this.state !== "stopping" && this.state !== "stopped") {
          this.listenTimer = setTimeout(() => void attempt(), backoffDelay(this.listenFailures));
        }
      }
    };
    void attempt();
  }

  async stop(): Promise<void> {
    if (this.state === "new") {
      this.state = "stopped";
      return;
    }
    if (this.state === "stopped" || this.state === "stopping") return this.stopping;
    this.state = "stopping";
    this.stopping = this.tearDown().finally(() => {
      this.state = "stopped";
      this.logger.info("osad2-server stopped");
    });
    return this.stopping;
  }

  private stopping: Promise<void> = Promise.resolve();

  private async tearDown(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    clearTimeout(this.revocationTimer);
    clearTimeout(this.listenTimer);
    const settle = async (
      what: string,
      work: (() => Promise<void> | void) | undefined,
    ): Promise<void> => {
      if (work === undefined) return;
      try {
        await work();
      } catch (error) {
        this.logger.warn({ err: error }, `error while stopping ${what}`);
      }
    };
    // New work stops first (registrations, wake-ups), then in-flight work drains.
    await settle("XML-RPC", running.registration && (() => running.registration?.close()));
    running.unwatchKeys?.();
    await settle("LISTEN", running.stopListen);
    await settle("notifier", running.notifier && (() => running.notifier?.stop()));
    await settle("presence", running.presence && (() => running.presence?.stop()));
    await settle("re-bind", this.rebinding && (() => this.rebinding));
    await settle("sockets", running.sockets && (() => running.sockets?.close()));
    await settle("listener", running.listenerLoop && (() => running.listenerLoop));
    await settle("ZAP", running.zap && (() => running.zap?.close()));
    await settle("metrics", running.metricsEndpoint && (() => running.metricsEndpoint?.close()));
    await settle("key store", () => running.keyStore.close());
    if (running.ownStore) await settle("database", () => running.store.close());
    this.running = undefined;
  }

  async notify(target: number | string): Promise<NotifyResult> {
    const notifier = this.running?.notifier;
    if (this.state !== "running" || notifier === undefined)
      throw new ServerStateError(this.state, "notify");
    return notifier.notify(target);
  }

  async reload(config?: Partial<ServerConfig>): Promise<ReloadResult> {
    const running = this.running;
    if (this.state !== "running" || running === undefined)
      throw new ServerStateError(this.state, "reload");
    await running.keyStore.reload();
    if (config === undefined) return { applied: [], restartNeeded: [] };
    const next = normalizeServerConfig(config);
    const changed = changedFields(this.config, next);
    const applied = changed.filter((field) => RELOADABLE_FIELDS.has(field));
    const restartNeeded = changed.filter((field) => !RELOADABLE_FIELDS.has(field));
    const merged: Record<string, unknown> = { ...this.config };
    for (const field of applied) merged[field] = next[field];
    this.config = merged as unknown as ServerConfig;
    running.presence?.configure({
      pingIntervalMs: this.config.pingInterval * 1000,
      missedPings: this.config.missedPings,
      uiCheckIntervalMs: this.config.actionPollInterval * 1000,
      uiPingTimeoutMs: this.options.uiPingTimeoutMs ?? DEFAULT_UI_PING_TIMEOUT_MS,
      helloGraceMs: this.options.catchUpDelayMs ?? DEFAULT_CATCH_UP_DELAY_MS,
    });
    running.notifier?.configure(notifierSettings(this.config));
    this.logger.level = this.config.debug ? "debug" : "info";
    if (restartNeeded.length > 0) {
      this.logger.warn(
        { settings: restartNeeded },
        "these settings changed but take effect only after a restart",
      );
    }
    this.logger.info({ applied }, "configuration reloaded");
    return { applied, restartNeeded };
  }

  endpoints(): ServerEndpoints {
    const sockets = this.running?.sockets;
    if (sockets === undefined) throw new ServerStateError(this.state, "report endpoints");
    const registration = this.running?.registration;
    return {
      publisher: sockets.publisherEndpoint,
      listener: sockets.listenerEndpoint,
      publisherPort: sockets.publisherPort,
      listenerPort: sockets.listenerPort,
      xmlrpc: registration?.url ?? null,
      xmlrpcPort: registration?.port ?? null,
      metricsPort: this.running?.metricsEndpoint?.port ?? null,
    };
  }

  async health(): Promise<HealthReport> {
    const running = this.running;
    const sockets = running?.sockets?.state ?? { publisher: false, listener: false };
    const dbProblem =
      running === undefined ? "server not running" : await probe(() => running.store.healthCheck());
    return {
      healthy:
        this.state === "running" &&
        dbProblem === undefined &&
        sockets.publisher &&
        sockets.listener,
      db: {
        ok: dbProblem === undefined,
        kind: running?.store.kind ?? "unknown",
        ...(dbProblem ? { error: dbProblem } : {}),
      },
      sockets,
      clientsOnline: running?.presence?.onlineCount ?? 0,
      inFlight: running?.notifier?.inFlight ?? 0,
    };
  }

  /**
   * A key left public_keys/ (revoked, deleted, replaced). ZAP only runs at handshake, and
   * libzmq cannot drop one peer of a bound socket, so the server re-binds both sockets: every
   * connection is cut, every client reconnects within its reconnect interval (1-2 s) and passes
   * ZAP again, and the revoked one is refused. Revocations are rare operator actions, so one
   * reconnect wave per (debounced) revocation is cheap next to the alternative of a client
   * that keeps receiving. Anything published during the wave is re-announced (expedite) and
   * reconnecting osad2 clients get a catch-up through their hello.
   */
  private keyRemoved(name: string): void {
    this.logger.info({ key: name }, "client key removed from the allow-list; cutting connections");
    clearTimeout(this.revocationTimer);
    this.revocationTimer = setTimeout(() => {
      const running = this.running;
      if (running?.sockets === undefined || this.state !== "running") return;
      const sockets = running.sockets;
      const previous = this.rebinding ?? Promise.resolve();
      this.rebinding = previous
        .then(() => sockets.rebind())
        .then(() => {
          running.notifier?.expedite(3_000);
          this.logger.info("sockets re-bound; clients re-authenticate through ZAP");
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error }, "re-binding after a key revocation failed");
        });
    }, this.options.revocationDebounceMs ?? 200);
  }

  private authFailure(
    rejection: ZapRejection | { address: string; reason: "handshake"; detail: string },
  ): void {
    this.metrics.authFailures.inc({ reason: rejection.reason });
    const event: AuthFailureEvent = {
      address: rejection.address,
      reason: rejection.reason,
      ...("publicKey" in rejection && rejection.publicKey !== undefined
        ? { publicKey: rejection.publicKey }
        : {}),
    };
    this.events.emit("auth-failure", event);
    const { log, suppressed } = this.authLog.take();
    if (log) {
      this.logger.warn(
        { ...event, ...("detail" in rejection ? { detail: rejection.detail } : {}), suppressed },
        "client refused",
      );
    }
  }

  private dbError(error: unknown, operation: string): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.metrics.pollErrors.inc();
    this.events.emit("db-error", { error: err, operation });
    const { log, suppressed } = this.dbErrorLog.take();
    if (log)
      this.logger.error({ err, operation, suppressed }, "database operation failed; retrying");
  }
}

function notifierSettings(config: ServerConfig) {
  return {
    renotifyMs: config.renotifyInterval * 1000,
    threshold: config.checkinCount,
    pollIntervalMs: config.actionPollInterval * 1000,
    includePickedUp: config.renotifyPickedUp,
  };
}
