import { KeyStore } from "@osad2/keys";
import type * as zmq from "zeromq";
import { normalizeServerConfig } from "./config/load.js";
import { planReload } from "./config/reload.js";
import type { ServerConfig } from "./config/schema.js";
import { openStore } from "./db/index.js";
import type { PrepareOptions, SpacewalkStore } from "./db/types.js";
import { Notifier, type NotifierSettings } from "./dispatch/notifier.js";
import type { NotifyResult } from "./dispatch/ports.js";
import { DEFAULT_HELLO_GRACE_MS } from "./dispatch/reachability.js";
import { WakeUps } from "./dispatch/wake-ups.js";
import { ServerStateError } from "./errors.js";
import { KeyStoreDirectory } from "./diagnostics/key-directory.js";
import type { LiveProxy, LiveState } from "./diagnostics/live-types.js";
import { IdentifyingPresenceReport } from "./diagnostics/online-log.js";
import { Diagnostics, type ServerView } from "./diagnostics/service.js";
import { StoreClientSystems } from "./diagnostics/store-systems.js";
import { silentLogger, type Logger } from "@osad2/service-kit";
import { ClientAuthenticator } from "./presence/authenticator.js";
import { ManagedClients } from "./presence/managed-clients.js";
import { JsonManagedClientsFile } from "./presence/managed-file.js";
import { ManagingRegistrationStore } from "./presence/managed-registrations.js";
import { OnlineClients } from "./presence/online-clients.js";
import {
  DEFAULT_UI_PING_TIMEOUT_MS,
  Presence,
  type PresenceSettings,
} from "./presence/presence.js";
import { SharedKeyCache } from "./presence/shared-keys.js";
import { startRegistrationEndpoint, type RegistrationEndpoint } from "./registration/endpoint.js";
import type { ServerEventHandler, ServerEventName } from "./telemetry/events.js";
import { DescriptorWatch, raiseDescriptorLimit } from "./telemetry/descriptors.js";
import { checkHealth, type HealthReport, type HealthSource } from "./telemetry/health.js";
import { startMetricsEndpoint, type MetricsEndpoint } from "./telemetry/http-endpoint.js";
import { Telemetry } from "./telemetry/telemetry.js";
import { createZmqContext } from "./transport/context.js";
import { PeerAddressBook } from "./transport/peers.js";
import { RevocationRebind } from "./transport/revocation.js";
import { RouterLoop } from "./transport/router-loop.js";
import { ServerSockets } from "./transport/sockets.js";
import { ClientDelivery } from "./transport/delivery.js";
import { DirectRebindReannouncer, ProxyLinks } from "./transport/proxy-links.js";
import { ProxyPort } from "./transport/proxy-port.js";
import { ClientRoutes } from "./transport/routes.js";
import { ZapHandler } from "./transport/zap.js";
import type { ZapResponder } from "@osad2/service-kit/zeromq";
import { type RoleCoordination, startRoleCoordination } from "./failover/coordination.js";
import type { ServerRole } from "./failover/coordinator.js";
import { FencedSender } from "./failover/fenced-sender.js";

/** Default of {@link CreateServerOptions.catchUpDelayMs}. */
export const DEFAULT_CATCH_UP_DELAY_MS = DEFAULT_HELLO_GRACE_MS;

/** How long giving up the notifying role waits for a round in progress before unbinding. */
const ROLE_LOSS_DRAIN_MS = 1_000;

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
  /** PostgreSQL failover: how often a standby tries the notifying role's lock and the holder checks it. Default 1,000 ms. */
  readonly rolePollMs?: number;
}

/** Where a running server can be reached (ports resolved when configured as 0). */
export interface ServerEndpoints {
  readonly publisher: string;
  /** The ROUTER endpoint (the seed's listener_port). */
  readonly listener: string;
  /** The proxy port's endpoint (proxy_port), where osad2 proxies link. */
  readonly proxy: string;
  readonly publisherPort: number;
  readonly listenerPort: number;
  readonly proxyPort: number;
  /** XML-RPC URL, or null when xmlrpc_port is 0. */
  readonly xmlrpc: string | null;
  readonly xmlrpcPort: number | null;
  /** Metrics port, or null when metrics_port is 0. */
  readonly metricsPort: number | null;
  /** `standby`: another server holds the notifying role; the socket endpoints are the configured ones, not bound. */
  readonly role: ServerRole;
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
  /** Subscribes a handler to an event; returns the function that unsubscribes. */
  on<E extends ServerEventName>(event: E, handler: ServerEventHandler<E>): () => void;
  /** Resolved endpoints; throws ServerStateError before start. */
  endpoints(): ServerEndpoints;
  /** What /healthz reports. */
  health(): Promise<HealthReport>;
  /** `active` while this server holds the notifying role (always, on SQLite); `standby` otherwise. */
  readonly role: ServerRole;
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
  /** The proxies' allow-list (proxies/), asked by ZAP on the proxy port. */
  proxyKeyStore?: KeyStore;
  store: SpacewalkStore;
  ownStore: boolean;
  context?: zmq.Context;
  zap?: ZapResponder;
  /** What start() brought up once; the notifying part is (re)built from it on each activation. */
  base?: NotifyingBase;
  coordination?: RoleCoordination;
  /** The ports the first activation bound (kept when the config says 0). */
  boundPorts?: { readonly publisher: number; readonly router: number; readonly proxy: number };
  sockets?: ServerSockets;
  proxyPort?: ProxyPort;
  proxyLinks?: ProxyLinks;
  proxyAuthenticator?: ClientAuthenticator;
  descriptors?: DescriptorWatch;
  online?: OnlineClients;
  presence?: Presence;
  authenticator?: ClientAuthenticator;
  notifier?: Notifier;
  routerLoop?: RouterLoop;
  routes?: ClientRoutes;
  metricsEndpoint?: MetricsEndpoint;
  wakeUps?: WakeUps;
  revocation?: RevocationRebind;
  registration?: RegistrationEndpoint;
  managed?: ManagedClients;
  diagnostics?: Diagnostics;
  unsubscribe?: (() => void)[];
}

/** What the notifying part needs from the part start() brings up once. */
interface NotifyingBase {
  readonly keyPair: { readonly publicKey: string; readonly secretKey: string };
  readonly peers: PeerAddressBook;
  readonly sharedKeys: SharedKeyCache;
  readonly managed: ManagedClients;
  readonly diagnostics: Diagnostics;
}

/**
 * The composition root: builds the parts and connects them through their named interfaces.
 * Data path of an action: the notifier (dispatch/) reads due work from the store, asks its
 * reachability which clients can hear it and publishes `system:<name> checkin` through the
 * sockets (transport/). Clients' pongs and hellos come back through the ROUTER loop and the
 * authenticator (signature check) to presence (presence/), which tells the notifier about
 * them. Every part reports to telemetry.
 */
class Server implements Osad2Server, HealthSource, ServerView {
  state: ServerState = "new";
  config: ServerConfig;
  private readonly logger: Logger;
  private readonly telemetry: Telemetry;
  private running: Running | undefined;
  private stopping: Promise<void> = Promise.resolve();

  constructor(
    config: ServerConfig,
    private readonly options: CreateServerOptions,
  ) {
    this.config = config;
    this.logger = options.logger ?? silentLogger();
    this.telemetry = new Telemetry(this.logger, { processMetrics: options.processMetrics });
  }

  on<E extends ServerEventName>(event: E, handler: ServerEventHandler<E>): () => void {
    return this.telemetry.events.on(event, handler);
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
    const { config, options, logger, telemetry } = this;
    // Each client holds a descriptor: start with all the kernel allows (soft up to hard).
    await raiseDescriptorLimit(logger);
    const keyStore = await KeyStore.open(config.certificates, {
      onError: (error) => telemetry.keyStoreProblem(error),
    });
    let store: SpacewalkStore;
    try {
      // The logger names rows whose times SQLite cannot read (and the driver's warnings).
      store =
        options.store ?? (await openStore(config.database, { ...storeOptions(config), logger }));
    } catch (error) {
      await keyStore.close();
      throw error;
    }
    const running: Running = { keyStore, store, ownStore: options.store === undefined };
    this.running = running;
    running.proxyKeyStore = await KeyStore.open(config.certificates, {
      allowList: "proxies",
      onError: (error) => telemetry.keyStoreProblem(error),
    });
    const keyPair = await keyStore.readServerKeyPair();
    // Which rows are this server's to write (a mixed fleet shares rhnPushClient with
    // osa-dispatcher); a corrupt list stops the start here, naming the file.
    const managed = await ManagedClients.open({
      file: new JsonManagedClientsFile(config.stateDir),
      store,
      saveFailed: (error, path) =>
        logger.error(
          { err: error, path },
          "cannot save the managed push clients; retried at the next change or ping round",
        ),
    });

    running.managed = managed;
    // Which key and address each connection came from, for doctor and systems (control socket).
    const diagnostics = await Diagnostics.create({
      stateDir: config.stateDir,
      keys: new KeyStoreDirectory(keyStore),
      systems: new StoreClientSystems(store),
      server: this,
      logger,
    });
    running.diagnostics = diagnostics;
    running.unsubscribe = [
      telemetry.events.on("notified", (event) => diagnostics.book.notified(event)),
      telemetry.events.on("auth-failure", (event) => diagnostics.authFailure(event)),
    ];

    const prepare = options.prepare ?? store.kind === "sqlite";
    if (prepare !== false) {
      const result = await store.prepare(prepare === true ? {} : prepare);
      logger.info(result, "database schema checked");
    }

    running.context = createZmqContext();
    const peers = new PeerAddressBook();
    // ZAP first: a socket bound before its handler exists would let handshakes through.
    running.zap = await ZapHandler.start({
      context: running.context,
      keys: keyStore,
      proxies: running.proxyKeyStore,
      report: telemetry,
      admissions: peers,
      handshakes: diagnostics.book,
      logger,
    });
    running.base = {
      keyPair,
      peers,
      sharedKeys: new SharedKeyCache({
        source: store,
        readFailed: (error, names) =>
          logger.warn(
            { err: error, names },
            "could not read clients' shared keys; refused as busy",
          ),
      }),
      managed,
      diagnostics,
    };
    if (config.allowUnsignedClients) {
      logger.warn(
        "allow_unsigned_clients = 1: seed-format clients are trusted by their routing id; any holder of an allowed key can speak for any system",
      );
    }
    if (config.metricsPort !== 0) {
      running.metricsEndpoint = await startMetricsEndpoint({
        host: config.metricsBind,
        port: config.metricsPort,
        metrics: telemetry.metrics,
        health: this,
        logger,
      });
    }
    // Only the holder of the notifying role binds the client-facing sockets and notifies
    // (PostgreSQL: an advisory lock; SQLite: this one server); a standby serves register_osad.
    running.coordination = await startRoleCoordination({
      database: config.database,
      storeKind: store.kind,
      ...(config.databaseSchema === "" ? {} : { schema: config.databaseSchema }),
      failover: config.failoverServers.length > 0,
      role: {
        becomeActive: () => this.startNotifying(running),
        becomeStandby: () => this.stopNotifying(running, ROLE_LOSS_DRAIN_MS),
      },
      report: telemetry.metrics,
      logger,
      ...(options.rolePollMs === undefined ? {} : { pollMs: options.rolePollMs }),
    });

    await diagnostics.listen();

    if (config.xmlrpcPort !== 0) {
      running.registration = await startRegistrationEndpoint({
        store: new ManagingRegistrationStore(store, managed, running.base.sharedKeys),
        host: config.xmlrpcBind === "" ? config.bind : config.xmlrpcBind,
        port: config.xmlrpcPort,
        tlsCert: config.tlsCert,
        tlsKey: config.tlsKey,
        publicHost: config.publicHost,
        publisherPort: running.sockets?.publisherPort ?? config.publisherPort,
        listenerPort: running.sockets?.routerPort ?? config.listenerPort,
        failoverServers: config.failoverServers,
        serverPublicKey: keyPair.publicKey,
        logger,
      });
    }
  }

  /**
   * The notifying part: binds the client-facing sockets (PUB, ROUTER; any further socket
   * clients or proxies connect to belongs here too) and starts presence and the notifier.
   * Runs at start on SQLite, and each time this server takes the notifying role on
   * PostgreSQL: presence starts as after a restart (clients reconnect and say hello) and the
   * notifier's first round catches up on everything due.
   */
  private async startNotifying(running: Running): Promise<void> {
    const { config, options, logger, telemetry } = this;
    const { store, keyStore } = running;
    const { keyPair, peers, sharedKeys, managed, diagnostics } = running.base as NotifyingBase;
    const sockets = await ServerSockets.open({
      context: running.context as zmq.Context,
      bind: config.bind,
      // Port 0 (tests): the ports of an earlier activation again, so clients find them.
      publisherPort: running.boundPorts?.publisher ?? config.publisherPort,
      routerPort: running.boundPorts?.router ?? config.listenerPort,
      keyPair,
      report: telemetry,
      accept: { acceptFailed: (code) => running.descriptors?.acceptFailed(code) },
      logger,
    });
    running.sockets = sockets;
    let proxyPort: ProxyPort;
    try {
      proxyPort = await ProxyPort.open({
        context: running.context as zmq.Context,
        bind: config.bind,
        port: running.boundPorts?.proxy ?? config.proxyPort,
        keyPair,
        report: telemetry,
        logger,
      });
    } catch (error) {
      await sockets.close();
      running.sockets = undefined;
      throw error;
    }
    running.proxyPort = proxyPort;
    running.boundPorts = {
      publisher: sockets.publisherPort,
      router: sockets.routerPort,
      proxy: proxyPort.port,
    };
    running.descriptors = new DescriptorWatch({ listener: sockets, logger });
    running.descriptors.start();

    const online = new OnlineClients();
    // v3 clients' names → their connections; presence is told when one is found gone.
    const routes = new ClientRoutes();
    const lost = { connectionLost: (name: string) => running.presence?.connectionLost(name) };
    const delivery = new ClientDelivery(sockets, routes, lost);
    running.routes = routes;
    // Clients behind osad2 proxies: connections of the same v3 transport, carried by links.
    const proxyLinks = new ProxyLinks({
      port: proxyPort,
      clientKeys: keyStore,
      proxyKeys: running.proxyKeyStore as KeyStore,
      routes,
      lost,
      report: telemetry,
      logger,
    });
    running.proxyLinks = proxyLinks;
    telemetry.metrics.countProxyConnections(proxyLinks);
    const notifier = new Notifier({
      ...notifierSettings(config, options),
      store,
      publisher: new FencedSender(delivery, coordinationLease(running), logger),
      online,
      report: telemetry,
      logger,
    });
    const presence = new Presence({
      ...presenceSettings(config, options),
      store,
      publisher: delivery,
      online,
      managed,
      sink: notifier,
      report: new IdentifyingPresenceReport(telemetry, diagnostics),
      logger,
    });
    running.online = online;
    running.notifier = notifier;
    running.presence = presence;
    telemetry.metrics.countClients(online, managed);
    telemetry.metrics.countStatements(store);

    // Clients' messages change presence only once their signature verifies (or, with
    // allow_unsigned_clients, in the seed's format); the routing id is never an identity.
    const authenticator = new ClientAuthenticator({
      allowUnsigned: config.allowUnsignedClients,
      keys: sharedKeys,
      tokens: presence,
      replies: sockets,
      handler: presence,
      bindings: routes.via(sockets),
      report: telemetry,
      peers,
      observer: diagnostics.book,
      logger,
    });
    running.authenticator = authenticator;
    const proxiedBook = diagnostics.book.proxied(proxyLinks);
    // The proxied connections' own: its challenges and replies are theirs (ids of another
    // space than the ROUTER's routing ids); only signed v3 messages count behind a proxy.
    const proxyAuthenticator = new ClientAuthenticator({
      allowUnsigned: false,
      keys: sharedKeys,
      tokens: presence,
      replies: proxyLinks,
      handler: presence,
      bindings: proxyLinks,
      report: telemetry,
      peers: proxyLinks,
      observer: proxiedBook,
      logger,
    });
    running.proxyAuthenticator = proxyAuthenticator;
    proxyLinks.start(proxyAuthenticator, proxiedBook);
    running.routerLoop = new RouterLoop({
      source: sockets,
      handler: authenticator,
      report: telemetry,
      logger,
    });
    running.routerLoop.start();

    try {
      await presence.refresh();
    } catch (error) {
      telemetry.presenceFailed(error);
    }
    presence.start();
    notifier.start();
    running.wakeUps = new WakeUps({ source: store, target: notifier, report: telemetry, logger });
    running.wakeUps.start();
    running.revocation = new RevocationRebind({
      sockets,
      // The re-bind cuts direct connections; proxied ones stay up (and addressed).
      dispatch: new DirectRebindReannouncer(notifier, proxyLinks),
      logger,
      ...(options.revocationDebounceMs === undefined
        ? {}
        : { debounceMs: options.revocationDebounceMs }),
    });
    running.revocation.follow(keyStore);
  }

  /** Stops notifying and unbinds (stop, or the notifying role lost): the reverse of startNotifying. */
  private async stopNotifying(running: Running, drainMs = Infinity): Promise<void> {
    const { revocation, wakeUps, notifier, presence, sockets, routerLoop, proxyPort, proxyLinks } =
      running;
    const drain = (async () => {
      await this.settle("wake-ups", wakeUps && (() => wakeUps.stop()));
      await this.settle("notifier", notifier && (() => notifier.stop()));
      await this.settle("presence", presence && (() => presence.stop()));
      await this.settle("re-bind", revocation && (() => revocation.stop()));
    })();
    // Losing the role: no checkin leaves any more (the lease is gone), and the sockets are
    // closed after drainMs at most, even if a round waits on an unreachable database.
    await (drainMs === Infinity
      ? drain
      : Promise.race([drain, new Promise((resolve) => setTimeout(resolve, drainMs).unref())]));
    // The loop ends once the sockets are closed; told first so it does not restart then.
    const routerDone = routerLoop?.stop();
    const linksDone = proxyLinks?.stop();
    running.descriptors?.stop();
    await this.settle("sockets", sockets && (() => sockets.close()));
    await this.settle("proxy port", proxyPort && (() => proxyPort.close()));
    await this.settle("ROUTER loop", routerDone && (() => routerDone));
    await this.settle("proxy links", linksDone && (() => linksDone));
    this.telemetry.linksChanged(0);
    this.telemetry.metrics.countProxyConnections(undefined);
    this.telemetry.metrics.countClients(undefined);
    for (const part of NOTIFYING_PARTS) running[part] = undefined;
  }

  private async settle(what: string, work: (() => unknown) | undefined): Promise<void> {
    if (work === undefined) return;
    try {
      await work();
    } catch (error) {
      this.logger.warn({ err: error }, `error while stopping ${what}`);
    }
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

  private async tearDown(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    const settle = (what: string, work: (() => unknown) | undefined): Promise<void> =>
      this.settle(what, work);
    const { registration, zap, coordination } = running;
    // New work stops first (registrations, wake-ups, re-binds), then in-flight work drains.
    await settle("XML-RPC", registration && (() => registration.close()));
    await this.stopNotifying(running);
    // Released only once unbound: a standby taking over now never overlaps with this one.
    await settle("notifying role", coordination && (() => coordination.stop()));
    for (const unsubscribe of running.unsubscribe ?? []) unsubscribe();
    const diagnostics = running.diagnostics;
    await settle("control socket", diagnostics && (() => diagnostics.stop()));
    await settle("ZAP", zap && (() => zap.close()));
    const metricsEndpoint = running.metricsEndpoint;
    await settle("metrics", metricsEndpoint && (() => metricsEndpoint.close()));
    await settle("key store", () => running.keyStore.close());
    const proxyKeyStore = running.proxyKeyStore;
    await settle("proxy key store", proxyKeyStore && (() => proxyKeyStore.close()));
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
    const plan = planReload(this.config, normalizeServerConfig(config));
    this.config = plan.config;
    running.presence?.configure(presenceSettings(this.config, this.options));
    running.notifier?.configure(notifierSettings(this.config, this.options));
    running.authenticator?.configure({ allowUnsigned: this.config.allowUnsignedClients });
    this.logger.level = this.config.debug ? "debug" : "info";
    if (plan.restartNeeded.length > 0) {
      this.logger.warn(
        { settings: plan.restartNeeded },
        "these settings changed but take effect only after a restart",
      );
    }
    this.logger.info({ applied: plan.applied }, "configuration reloaded");
    return { applied: plan.applied, restartNeeded: plan.restartNeeded };
  }

  endpoints(): ServerEndpoints {
    const running = this.running;
    if (running?.coordination === undefined)
      throw new ServerStateError(this.state, "report endpoints");
    const sockets = running.sockets;
    const registration = running.registration;
    const { bind, publisherPort, listenerPort, proxyPort } = this.config;
    return {
      role: this.role,
      publisher: sockets?.publisherEndpoint ?? `tcp://${bind}:${publisherPort}`,
      listener: sockets?.routerEndpoint ?? `tcp://${bind}:${listenerPort}`,
      proxy: running.proxyPort?.endpoint ?? `tcp://${bind}:${proxyPort}`,
      publisherPort: sockets?.publisherPort ?? publisherPort,
      listenerPort: sockets?.routerPort ?? listenerPort,
      proxyPort: running.proxyPort?.port ?? proxyPort,
      xmlrpc: registration?.url ?? null,
      xmlrpcPort: registration?.port ?? null,
      metricsPort: this.running?.metricsEndpoint?.port ?? null,
    };
  }

  get role(): ServerRole {
    return this.running?.coordination?.role ?? "standby";
  }

  settings(): LiveState["settings"] {
    const { config } = this;
    return {
      role: this.role,
      pingIntervalMs: config.pingInterval * 1000,
      missedPings: config.missedPings,
      notifyThreshold: config.notifyThreshold,
      renotifyPickedUp: config.renotifyPickedUp,
      publisherPort: this.running?.sockets?.publisherPort ?? config.publisherPort,
      listenerPort: this.running?.sockets?.routerPort ?? config.listenerPort,
      proxyPort: this.running?.proxyPort?.port ?? config.proxyPort,
    };
  }

  proxies(): LiveProxy[] {
    return (this.running?.proxyLinks?.list() ?? []).map((link) => ({
      name: link.proxyName,
      connections: link.connections,
      since: new Date(link.since).toISOString(),
    }));
  }

  managedNames(): readonly string[] {
    return this.running?.managed?.list() ?? [];
  }

  onlineNames(): Iterable<string> {
    return this.running?.online ?? [];
  }

  askedCount(): number {
    return this.running?.notifier?.inFlight ?? 0;
  }

  health(): Promise<HealthReport> {
    const running = this.running;
    return checkHealth({
      running: this.state === "running",
      role: this.role,
      ...(running === undefined
        ? {}
        : {
            store: running.store,
            keys: running.keyStore,
            descriptors: running.descriptors,
            sockets: running.sockets,
            router: running.routerLoop,
            presence: running.online,
            dispatch: running.notifier,
          }),
    });
  }
}

function storeOptions(config: ServerConfig): { schema?: string } {
  return config.databaseSchema === "" ? {} : { schema: config.databaseSchema };
}

function presenceSettings(config: ServerConfig, options: CreateServerOptions): PresenceSettings {
  return {
    pingIntervalMs: config.pingInterval * 1000,
    missedPings: config.missedPings,
    uiCheckIntervalMs: config.actionPollInterval * 1000,
    uiPingTimeoutMs: options.uiPingTimeoutMs ?? DEFAULT_UI_PING_TIMEOUT_MS,
    messageRefreshMs: config.lastMessageRefresh * 1000,
  };
}

function notifierSettings(config: ServerConfig, options: CreateServerOptions): NotifierSettings {
  return {
    renotifyMs: config.renotifyInterval * 1000,
    threshold: config.notifyThreshold,
    pollIntervalMs: config.actionPollInterval * 1000,
    includePickedUp: config.renotifyPickedUp,
    helloGraceMs: options.catchUpDelayMs ?? DEFAULT_CATCH_UP_DELAY_MS,
  };
}

/** The parts startNotifying builds and stopNotifying discards. */
const NOTIFYING_PARTS = [
  "sockets",
  "descriptors",
  "online",
  "presence",
  "authenticator",
  "notifier",
  "routerLoop",
  "routes",
  "proxyPort",
  "proxyLinks",
  "proxyAuthenticator",
  "wakeUps",
  "revocation",
] as const satisfies readonly (keyof Running)[];

/** The lease the notifier's sender asks before each checkin (the coordination, once started). */
function coordinationLease(running: Running): { mayNotify(): boolean } {
  return { mayNotify: () => running.coordination?.mayNotify() ?? true };
}
