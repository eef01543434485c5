import type * as zmq from "zeromq";
import {
  DEFAULT_PROXY_PORT,
  nestConnectionId,
  splitConnectionId,
  type KeyKind,
  type LinkDownMessage,
} from "@osad2/protocol";
import { tcpEndpoint, type HostPort, type Logger } from "@osad2/service-kit";
import { AdmissionCache, type AdmissionTimings } from "./admission.js";
import { AttributionGate } from "./attribution.js";
import { ClientPort, type ClientConnection } from "./client-port.js";
import { ProxyStateError } from "./errors.js";
import type { ProxyKeys } from "./keys.js";
import { ProxyPort, type ChildConnection } from "./proxy-port.js";
import { bindEndpoint, createProxyContext } from "./sockets.js";
import { UpstreamLink, type UpstreamState } from "./upstream.js";
import type { ZapResponder } from "@osad2/service-kit/zeromq";
import { ProxyZapHandler } from "./zap.js";

/** Options of {@link createProxy}. */
export interface ProxyOptions {
  /** This proxy's name on the link (`via` in the server's `systems`). */
  readonly name: string;
  /** Parents: the server's proxy_port (default {@link DEFAULT_PROXY_PORT}) or a parent proxy's. */
  readonly upstream: readonly HostPort[];
  /** Bind address of both ports; `*` = every interface. */
  readonly bind: string;
  /** Where clients connect; 0 = any free port. */
  readonly listenerPort: number;
  /** Where child proxies connect; 0 = any free port, `off` = none. */
  readonly proxyPort: number | "off";
  readonly keys: ProxyKeys;
  readonly logger: Logger;
  /** How long admission answers are remembered. */
  readonly admission?: AdmissionTimings;
}

/** Where a started proxy listens. */
export interface ProxyEndpoints {
  /** The client port's bound endpoint, e.g. tcp://0.0.0.0:5556. */
  readonly listener: string;
  /** The child-proxy port's, or undefined when proxy_port = off. */
  readonly proxy: string | undefined;
}

/** A snapshot of a running proxy. */
export interface ProxyStatus {
  readonly state: "new" | "running" | "stopped";
  readonly upstream: UpstreamState | undefined;
  readonly clients: number;
  readonly childLinks: number;
  /** Admission decisions remembered. */
  readonly cachedDecisions: number;
  /** Handshakes waiting for the link to come back. */
  readonly admissionsWaiting: number;
  /** Messages dropped as undecodable (from clients, children or the parent). */
  readonly malformed: number;
}

/** A proxy: between clients (and child proxies) and its parent. */
export interface Proxy {
  /** Binds the ports (ZAP first) and connects upstream. @throws {ProxyBindError} */
  start(): Promise<ProxyEndpoints>;
  /** Closes everything. Idempotent. */
  stop(): Promise<void>;
  /** The bound endpoints; throws before start. */
  readonly endpoints: ProxyEndpoints;
  readonly status: ProxyStatus;
}

/** Creates a proxy; nothing is bound until {@link Proxy.start}. */
export function createProxy(options: ProxyOptions): Proxy {
  return new OsadProxy(options);
}

/** Upstream endpoints: each host's port, or the default proxy port. */
export function upstreamEndpoints(upstream: readonly HostPort[]): string[] {
  return upstream.map((entry) => tcpEndpoint(entry.host, entry.port ?? DEFAULT_PROXY_PORT));
}

class OsadProxy implements Proxy {
  private state: "new" | "starting" | "running" | "stopped" = "new";
  private context: zmq.Context | undefined;
  private zap: ZapResponder | undefined;
  private clients: ClientPort | undefined;
  private children: ProxyPort | undefined;
  private link: UpstreamLink | undefined;
  private readonly gate = new AttributionGate();
  private readonly admissions: AdmissionCache;
  private malformed = 0;
  private bound: ProxyEndpoints | undefined;

  constructor(private readonly options: ProxyOptions) {
    this.admissions = new AdmissionCache(
      {
        ask: (query, keyKind, publicKey) =>
          this.link?.send({ kind: "admit?", query, keyKind, publicKey }) ?? false,
      },
      options.admission,
    );
  }

  get endpoints(): ProxyEndpoints {
    if (this.bound === undefined) throw new ProxyStateError(this.state, "read endpoints");
    return this.bound;
  }

  get status(): ProxyStatus {
    return {
      state: this.state === "starting" ? "new" : this.state,
      upstream: this.link?.state,
      clients: this.clients?.size ?? 0,
      childLinks: this.children?.links ?? 0,
      cachedDecisions: this.admissions.size,
      admissionsWaiting: this.admissions.waiting,
      malformed: this.malformed,
    };
  }

  async start(): Promise<ProxyEndpoints> {
    if (this.state !== "new") throw new ProxyStateError(this.state, "start");
    this.state = "starting";
    const { options } = this;
    const logger = options.logger;
    try {
      const context = createProxyContext();
      this.context = context;
      this.zap = await ProxyZapHandler.start({
        context,
        decider: this.admissions,
        clientGate: this.gate,
        logger,
        report: {
          refused: (refusal) => logger.info(refusal, "handshake refused"),
        },
      });
      const ipv6 = options.bind.includes(":");
      this.clients = await ClientPort.open({
        context,
        endpoint: bindEndpoint(options.bind, options.listenerPort),
        ipv6,
        keyPair: options.keys.keyPair,
        gate: this.gate,
        logger,
        events: {
          opened: (c) => this.announce(c),
          received: (c, payload) => this.link?.send({ kind: "from", conn: c.conn, payload }),
          closed: (c) => this.link?.send({ kind: "close", conn: c.conn }),
          malformed: () => (this.malformed += 1),
        },
      });
      if (options.proxyPort !== "off") {
        this.children = await ProxyPort.open({
          context,
          endpoint: bindEndpoint(options.bind, options.proxyPort),
          ipv6,
          keyPair: options.keys.keyPair,
          logger,
          events: {
            opened: (c) => this.announceChild(c),
            received: (c, payload) =>
              this.link?.send({ kind: "from", conn: nestConnectionId(c.link, c.conn), payload }),
            closed: (c) =>
              this.link?.send({ kind: "close", conn: nestConnectionId(c.link, c.conn) }),
            admitQuestion: (link, query, keyKind, publicKey) =>
              void this.admissions
                .decide(keyKind, publicKey)
                .then((allow) => this.children?.answer(link, query, allow)),
            malformed: () => (this.malformed += 1),
          },
        });
      }
      this.bound = { listener: this.clients.endpoint, proxy: this.children?.endpoint };
      this.link = new UpstreamLink({
        context,
        endpoints: upstreamEndpoints(options.upstream),
        keyPair: options.keys.keyPair,
        upstreamPublicKey: options.keys.upstreamPublicKey,
        proxyName: options.name,
        logger,
        events: {
          sessionStarted: () => this.reannounce(),
          linkLost: () => this.admissions.linkDown(),
          received: (message) => this.fromParent(message),
          malformed: () => (this.malformed += 1),
        },
      });
      this.link.start();
      this.state = "running";
      logger.info(
        { name: options.name, ...this.bound, upstream: upstreamEndpoints(options.upstream) },
        "osad2-proxy started",
      );
      return this.bound;
    } catch (error) {
      await this.closeAll();
      this.state = "stopped";
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    await this.closeAll();
    this.options.logger.info("osad2-proxy stopped");
  }

  private async closeAll(): Promise<void> {
    await this.link?.close();
    await this.children?.close();
    await this.clients?.close();
    await this.zap?.close();
  }

  private announce(c: ClientConnection): void {
    this.link?.send({
      kind: "open",
      conn: c.conn,
      path: [this.options.name],
      address: c.address,
      publicKey: c.publicKey,
    });
  }

  private announceChild(c: ChildConnection): void {
    this.link?.send({
      kind: "open",
      conn: nestConnectionId(c.link, c.conn),
      path: [this.options.name, ...c.path],
      address: c.address,
      publicKey: c.publicKey,
    });
  }

  /** A new session: decisions may be stale (a revocation missed), and the parent knows no conn. */
  private reannounce(): void {
    this.admissions.linkUp();
    for (const c of this.clients?.connections() ?? []) this.announce(c);
    for (const c of this.children?.connections() ?? []) this.announceChild(c);
  }

  private fromParent(message: LinkDownMessage): void {
    switch (message.kind) {
      case "linked":
        return;
      case "to": {
        const { link, rest } = splitConnectionId(message.conn);
        if (link === undefined) this.clients?.deliver(rest, message.payload);
        else this.children?.deliver(link, rest, message.payload);
        return;
      }
      case "admit":
        this.admissions.answered(message.query, message.allow);
        return;
      case "revoked":
        this.revoked(message.keyKind, message.publicKey);
        return;
      case "relink":
        this.link?.newSession();
        return;
    }
  }

  private revoked(keyKind: KeyKind, publicKey: string): void {
    this.admissions.revoked(keyKind, publicKey);
    this.children?.revoked(keyKind, publicKey);
    const logger = this.options.logger;
    if (keyKind === "client" && this.clients?.hasKey(publicKey)) {
      logger.info({ publicKey }, "client key revoked: cutting client connections");
      void this.clients
        .rebind()
        .catch((error: unknown) =>
          logger.error({ err: error }, "re-binding the client port failed"),
        );
    }
    if (keyKind === "proxy" && this.children !== undefined && this.children.links > 0) {
      logger.info({ publicKey }, "proxy key revoked: cutting child proxy links");
      void this.children
        .rebind()
        .catch((error: unknown) =>
          logger.error({ err: error }, "re-binding the proxy port failed"),
        );
    }
  }
}
