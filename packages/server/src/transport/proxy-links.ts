import {
  decodeLinkUp,
  decodeListenerMessage,
  encodeLinkDown,
  LINK_SILENCE_MS,
  MAX_MESSAGE_BYTES,
  ProtocolError,
  type KeyKind,
  type LinkDownMessage,
  type LinkUpMessage,
  type ListenerMessage,
} from "@osad2/protocol";
import type { Logger } from "@osad2/service-kit";
import { AllowListCheck, type KeyAuthorizer } from "./allow-check.js";
import type {
  ConnectionSender,
  LostConnections,
  PeerDirectory,
  ReplySender,
  SendOutcome,
} from "./ports.js";
import type { KeyChanges, Reannouncer } from "./revocation.js";
import type { ClientMessageHandler, InboundReport } from "./router-loop.js";
import { RestartingReceiver, type FrameSink } from "./restarting-receiver.js";
import type { ClientRoutes } from "./routes.js";

/** How often links are checked for silence and re-announced connections for a hello. */
const SWEEP_MS = 250;
/**
 * A connection announced on a link that has not asked for a challenge this long after its
 * `open` was re-announced (a new link session: a proxy or server restart, a cut link): the
 * client does not know its server forgot it, so the server challenges it and the client
 * answers with a signed hello, as after any reconnect.
 */
export const REANNOUNCED_CHALLENGE_MS = 500;
/** Connections per link at most (one proxy serves 500-1,000 systems; its children more). */
const MAX_CONNECTIONS_PER_LINK = 100_000;
/** `relink` to one silent-but-unknown peer at most this often. */
const RELINK_GAP_MS = 1_000;

/** The proxy port's socket (proxy-port.ts). */
export interface LinkPort {
  send(routingId: Buffer, frames: readonly Buffer[]): Promise<SendOutcome>;
  messages(): AsyncIterable<Buffer[]>;
  /** Cuts every link (a proxy key was revoked). */
  rebind(): Promise<void>;
}

/** An allow-list the links answer `admit?` from and follow for revocations. */
export interface LinkAllowList extends KeyAuthorizer, KeyChanges {
  /** The key of this name, if any (proxies/NAME.key: a link's proxy name). */
  get(name: string): unknown;
}

/** Why a proxied hello was refused before its signature was checked. */
export type LinkRefusalKind =
  /** The hello signs another CURVE key than the one the proxy admitted. */
  | "key-mismatch"
  /** The connection's key is not (or no longer) on the allow-list. */
  | "key-not-allowed";

/** Told about links and what they carry (metrics, logs). */
export interface ProxyLinkReport extends InboundReport {
  /** A proxied hello refused (the authenticator's refusals go to its own report). */
  refused(refusal: {
    readonly reason: LinkRefusalKind;
    readonly clientName: string;
    /** The connection's transport id, hex. */
    readonly routingId: string;
    readonly peers: readonly string[];
  }): void;
  /** The number of links (proxies connected) changed. */
  linksChanged(links: number): void;
}

/** One connected proxy as diagnostics show it. */
export interface LinkSummary {
  readonly proxyName: string;
  readonly session: string;
  /** Connections it carries (clients behind it, and behind its children). */
  readonly connections: number;
  /** Epoch ms of the link's session start. */
  readonly since: number;
}

/** Where a connection behind a proxy comes from (diagnostics: doctor, systems). */
export interface ProxiedPeer {
  /** Proxy names from this server down to the client's own proxy. */
  readonly path: readonly string[];
  /** The client's address as its proxy saw it. */
  readonly address: string | null;
  /** The client's CURVE key as its proxy admitted it. */
  readonly publicKey: string | null;
}

/** Told when a proxied connection ends (diagnostics). */
export interface ProxiedConnectionLog {
  closed(id: Buffer): void;
}

/** Options of {@link ProxyLinks}. */
export interface ProxyLinksOptions {
  readonly port: LinkPort;
  /** Client allow-list (public_keys/): `admit? client`, and the key of each proxied hello. */
  readonly clientKeys: LinkAllowList;
  /** Proxy allow-list (proxies/): `admit? proxy` (child proxies). */
  readonly proxyKeys: LinkAllowList;
  /** Which client name each v3 connection's verified hello bound (shared with direct clients). */
  readonly routes: ClientRoutes;
  /** Told when a proxied client's connection is gone. */
  readonly lost: LostConnections;
  readonly report: ProxyLinkReport;
  readonly logger: Logger;
  /** Default {@link LINK_SILENCE_MS}. */
  readonly silenceMs?: number;
  readonly now?: () => number;
}

interface Link {
  /** Distinguishes this link's connection ids from every other link's (also across sessions). */
  readonly serial: number;
  readonly routingId: Buffer;
  readonly proxyName: string;
  readonly session: string;
  readonly since: number;
  lastHeard: number;
  readonly conns: Map<string, ProxiedConnection>;
}

interface ProxiedConnection extends ProxiedPeer {
  readonly link: Link;
  readonly conn: string;
  /** Its id in the server's v3 transport (ClientRoutes, the authenticator): `serial:conn`. */
  readonly id: Buffer;
  /** The client name its verified hello bound, if any. */
  clientName: string | undefined;
  readonly openedAt: number;
}

/**
 * The server's end of the proxy links (proxy-link.ts): each link (one proxy's DEALER on the
 * proxy port) carries many client connections, and each of those is a connection of the
 * server's v3 transport like a direct one: its frames go through the same decoding and the
 * same authenticator (signed hello, pong, goodbye), and its pings and checkins leave as `to`
 * on the link. The proxy only names connections; who a message is from is proven by the
 * client's signature, and a proxied hello must sign the very key the proxy says it admitted.
 */
export class ProxyLinks implements ConnectionSender, ReplySender, PeerDirectory, FrameSink {
  /** Links by the routing id (hex) of their proxy's DEALER. */
  private readonly links = new Map<string, Link>();
  /** Connections by their transport id (latin1 of `serial:conn`). */
  private readonly byId = new Map<string, ProxiedConnection>();
  private readonly relinked = new Map<string, number>();
  /** Connections announced that have not asked for a challenge yet. */
  private readonly quiet = new Set<ProxiedConnection>();
  private readonly clientCheck: AllowListCheck;
  private readonly proxyCheck: AllowListCheck;
  private handler: ClientMessageHandler | undefined;
  private log: ProxiedConnectionLog | undefined;
  private serial = 0;
  private readonly receiver: RestartingReceiver;
  private stopping = false;
  private sweep: NodeJS.Timeout | undefined;
  private readonly unwatch: (() => void)[] = [];
  private rebinding: Promise<void> = Promise.resolve();
  /** Link messages dropped as undecodable since start (also counted in the report). */
  malformedCount = 0;

  constructor(private readonly options: ProxyLinksOptions) {
    this.clientCheck = new AllowListCheck(options.clientKeys, options.logger);
    this.proxyCheck = new AllowListCheck(options.proxyKeys, options.logger);
    this.receiver = new RestartingReceiver({
      source: options.port,
      sink: this,
      from: "proxies (proxy port)",
      logger: options.logger,
    });
  }

  /** Starts reading the proxy port; proxied clients' messages go to `handler`. */
  start(handler: ClientMessageHandler, log?: ProxiedConnectionLog): void {
    this.handler = handler;
    this.log = log;
    this.unwatch.push(
      this.options.clientKeys.watch((change) => {
        if (change.type === "removed") this.keyLeft("client", change.key.publicKey);
      }),
      this.options.proxyKeys.watch((change) => {
        if (change.type === "removed") this.keyLeft("proxy", change.key.publicKey);
      }),
    );
    this.sweep = setInterval(() => this.sweepLinks(), SWEEP_MS);
    this.sweep.unref();
    this.receiver.start();
  }

  /** Stops; resolves once the loop has ended (after the port is closed). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweep);
    const ended = this.receiver.stop();
    for (const unwatch of this.unwatch.splice(0)) unwatch();
    await this.rebinding;
    return ended;
  }

  /** Proxies connected now. */
  get linkCount(): number {
    return this.links.size;
  }

  /** Client names bound to connections behind proxies now. */
  *boundNames(): IterableIterator<string> {
    for (const connection of this.byId.values()) {
      const name = connection.clientName;
      if (name === undefined) continue;
      const route = this.options.routes.routeOf(name);
      if (route?.sender === this && route.id.equals(connection.id)) yield name;
    }
  }

  /** The connected proxies. */
  list(): LinkSummary[] {
    return [...this.links.values()].map((link) => ({
      proxyName: link.proxyName,
      session: link.session,
      connections: link.conns.size,
      since: link.since,
    }));
  }

  /** Where a proxied connection comes from; undefined for an id that is not a proxied one. */
  peerOf(id: Buffer): ProxiedPeer | undefined {
    return this.byId.get(id.toString("latin1"));
  }

  peersOf(id: Buffer): readonly string[] {
    const connection = this.peerOf(id);
    if (connection === undefined) return [];
    return [`${connection.address ?? "?"} via ${connection.path.join("/")}`];
  }

  /** The bindings the proxied connections' authenticator writes through. */
  bind(clientName: string, id: Buffer): void {
    const connection = this.byId.get(id.toString("latin1"));
    if (connection === undefined) return;
    connection.clientName = clientName;
    this.options.routes.bind(clientName, id, this);
  }

  release(clientName: string): void {
    this.options.routes.release(clientName);
  }

  async sendTo(id: Buffer, frame: Buffer): Promise<SendOutcome> {
    const connection = this.byId.get(id.toString("latin1"));
    if (connection === undefined) return "gone";
    const link = connection.link;
    const outcome = await this.down(link, { kind: "to", conn: connection.conn, payload: frame });
    // The proxy's connection is gone: so is every client it carried.
    if (outcome === "gone" && this.links.get(link.routingId.toString("hex")) === link)
      this.dropLink(link, "its connection is gone");
    return outcome;
  }

  reply(id: Buffer, frame: Buffer): void {
    void this.sendTo(id, frame);
  }

  handle(routingId: Buffer | undefined, frames: Buffer[]): void {
    if (routingId === undefined) {
      this.malformed("frame-count", undefined);
      return;
    }
    const key = routingId.toString("hex");
    const link = this.links.get(key);
    let message: LinkUpMessage;
    try {
      message = decodeLinkUp(frames);
    } catch (error) {
      this.malformed(error instanceof ProtocolError ? error.reason : "undecodable", link, key);
      return;
    }
    try {
      this.dispatch(routingId, key, link, message);
    } catch (error) {
      this.options.logger.error({ err: error }, "proxy link message handler failed");
    }
  }

  private dispatch(
    routingId: Buffer,
    key: string,
    link: Link | undefined,
    message: LinkUpMessage,
  ): void {
    const now = this.now();
    if (message.kind === "link") {
      this.linkUp(routingId, key, link, message.proxyName, message.session);
      return;
    }
    if (message.kind === "admit?") {
      if (link !== undefined) link.lastHeard = now;
      void this.admit(routingId, message.query, message.keyKind, message.publicKey);
      return;
    }
    if (link === undefined || (message.kind === "alive" && message.session !== link.session)) {
      this.relink(routingId, key);
      return;
    }
    link.lastHeard = now;
    switch (message.kind) {
      case "alive":
        return;
      case "open":
        this.open(link, message);
        return;
      case "from":
        this.from(link, message.conn, message.payload);
        return;
      case "close": {
        const connection = link.conns.get(message.conn);
        if (connection !== undefined) this.dropConnection(connection);
        return;
      }
    }
  }

  private linkUp(
    routingId: Buffer,
    key: string,
    existing: Link | undefined,
    proxyName: string,
    session: string,
  ): void {
    const now = this.now();
    if (
      existing !== undefined &&
      existing.session === session &&
      existing.proxyName === proxyName
    ) {
      existing.lastHeard = now;
      void this.down(existing, { kind: "linked", session });
      return;
    }
    if (existing !== undefined) this.dropLink(existing, "it started a new session");
    this.serial += 1;
    const link: Link = {
      serial: this.serial,
      routingId: Buffer.from(routingId),
      proxyName,
      session,
      since: now,
      lastHeard: now,
      conns: new Map(),
    };
    this.links.set(key, link);
    this.relinked.delete(key);
    // The name is the proxy's own word (libzmq does not tell which admitted key a connection
    // used): shown in diagnostics, never trusted for anything; a name with no key is a mistake.
    if (this.options.proxyKeys.get(proxyName) === undefined)
      this.options.logger.warn(
        { proxy: proxyName },
        "a proxy linked under a name with no key in proxies/ (its proxy name should be its key's name)",
      );
    this.options.logger.info({ proxy: proxyName, session }, "proxy linked");
    this.options.report.linksChanged(this.links.size);
    void this.down(link, { kind: "linked", session });
  }

  private open(link: Link, message: Extract<LinkUpMessage, { kind: "open" }>): void {
    const previous = link.conns.get(message.conn);
    if (previous !== undefined) this.dropConnection(previous);
    if (link.conns.size >= MAX_CONNECTIONS_PER_LINK) {
      this.malformed("too-many-connections", link);
      return;
    }
    const connection: ProxiedConnection = {
      link,
      conn: message.conn,
      id: Buffer.from(`${link.serial}:${message.conn}`, "latin1"),
      path: message.path,
      address: message.address,
      publicKey: message.publicKey,
      clientName: undefined,
      openedAt: this.now(),
    };
    link.conns.set(message.conn, connection);
    this.byId.set(connection.id.toString("latin1"), connection);
    this.quiet.add(connection);
  }

  private from(link: Link, conn: string, payload: Buffer): void {
    const connection = link.conns.get(conn);
    if (connection === undefined) {
      this.malformed("unknown-connection", link);
      return;
    }
    if (payload.byteLength > MAX_MESSAGE_BYTES) {
      this.malformed("too-large", link);
      return;
    }
    let message: ListenerMessage;
    try {
      message = decodeListenerMessage(payload);
    } catch (error) {
      this.malformed(error instanceof ProtocolError ? error.reason : "undecodable", link);
      return;
    }
    if (message.kind === "hello-request" || message.kind === "hello") {
      this.quiet.delete(connection);
      // Behind a proxy only wire v3 (one connection, no PUB) can work.
      const version = message.kind === "hello" ? message.hello.version : message.version;
      if (version !== 3) {
        this.malformed("proxied-not-v3", link);
        return;
      }
    }
    if (message.kind === "hello") {
      // The key the proxy admitted must be the key the client signed into its hello, and
      // still on the allow-list: a proxy cannot lend one client's connection to another.
      const signed = message.hello.curvePublicKey;
      if (connection.publicKey === null || signed !== connection.publicKey) {
        this.refuse(connection, "key-mismatch", message.hello.clientName);
        return;
      }
      if (!this.options.clientKeys.has(connection.publicKey)) {
        // Maybe added a moment ago (the proxy's admit? saw it): asked again after a rescan.
        const key = connection.publicKey;
        const hello = message;
        void this.clientCheck.allowed(key).then((allowed) => {
          if (this.byId.get(connection.id.toString("latin1")) !== connection) return;
          if (allowed) {
            this.handler?.received(connection.id, hello);
            return;
          }
          this.refuse(connection, "key-not-allowed", hello.hello.clientName);
          this.broadcast({ kind: "revoked", keyKind: "client", publicKey: key });
        });
        return;
      }
    }
    this.handler?.received(connection.id, message);
  }

  private refuse(connection: ProxiedConnection, reason: LinkRefusalKind, clientName: string): void {
    this.options.report.refused({
      reason,
      clientName,
      routingId: connection.id.toString("hex").slice(0, 64),
      peers: this.peersOf(connection.id),
    });
  }

  private async admit(
    routingId: Buffer,
    query: string,
    keyKind: KeyKind,
    publicKey: string,
  ): Promise<void> {
    const check = keyKind === "client" ? this.clientCheck : this.proxyCheck;
    const allow = await check.allowed(publicKey);
    await this.options.port.send(routingId, encodeLinkDown({ kind: "admit", query, allow }));
  }

  private relink(routingId: Buffer, key: string): void {
    const now = this.now();
    const last = this.relinked.get(key);
    if (last !== undefined && now - last < RELINK_GAP_MS) return;
    this.relinked.set(key, now);
    if (this.relinked.size > 10_000) {
      const oldest = this.relinked.keys().next().value;
      if (oldest !== undefined) this.relinked.delete(oldest);
    }
    void this.options.port.send(routingId, encodeLinkDown({ kind: "relink" }));
  }

  private sweepLinks(): void {
    const now = this.now();
    const silenceMs = this.options.silenceMs ?? LINK_SILENCE_MS;
    for (const link of [...this.links.values()]) {
      if (now - link.lastHeard > silenceMs) {
        this.dropLink(link, `silent for more than ${silenceMs} ms`);
        continue;
      }
    }
    for (const connection of this.quiet) {
      // In order of announcement: the rest are younger.
      if (now - connection.openedAt < REANNOUNCED_CHALLENGE_MS) break;
      this.quiet.delete(connection);
      if (connection.clientName === undefined)
        this.handler?.received(connection.id, { kind: "hello-request", version: 3 });
    }
  }

  private dropLink(link: Link, why: string): void {
    const key = link.routingId.toString("hex");
    if (this.links.get(key) !== link) return;
    this.links.delete(key);
    this.options.logger.info(
      { proxy: link.proxyName, connections: link.conns.size },
      `proxy link dropped: ${why}`,
    );
    for (const connection of [...link.conns.values()]) this.dropConnection(connection);
    this.options.report.linksChanged(this.links.size);
  }

  private dropConnection(connection: ProxiedConnection): void {
    const link = connection.link;
    if (link.conns.get(connection.conn) === connection) link.conns.delete(connection.conn);
    this.byId.delete(connection.id.toString("latin1"));
    this.quiet.delete(connection);
    this.log?.closed(connection.id);
    const name = connection.clientName;
    if (
      name !== undefined &&
      this.options.routes.release(name, { sender: this, id: connection.id })
    )
      this.options.lost.connectionLost(name);
  }

  /**
   * A key left its allow-list: every proxy forgets its decision and cuts that key's
   * connections (`revoked`); this server drops them too. A proxy key also cuts the proxy
   * port, so the revoked proxy's link ends and ZAP refuses it when it reconnects.
   */
  private keyLeft(keyKind: KeyKind, publicKey: string): void {
    if (this.stopping) return;
    const keys = keyKind === "client" ? this.options.clientKeys : this.options.proxyKeys;
    // Renamed or re-added meanwhile: still allowed.
    if (keys.has(publicKey)) return;
    this.options.logger.info(
      { keyKind, publicKey },
      "key left the allow-list; telling every proxy",
    );
    this.broadcast({ kind: "revoked", keyKind, publicKey });
    if (keyKind === "client") {
      for (const connection of [...this.byId.values()])
        if (connection.publicKey === publicKey) this.dropConnection(connection);
      return;
    }
    this.rebinding = this.rebinding
      .then(() => this.options.port.rebind())
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, "re-binding the proxy port failed"),
      );
  }

  private broadcast(message: LinkDownMessage): void {
    for (const link of this.links.values()) void this.down(link, message);
  }

  private down(link: Link, message: LinkDownMessage): Promise<SendOutcome> {
    return this.options.port.send(link.routingId, encodeLinkDown(message));
  }

  private malformed(reason: string, link: Link | undefined, routingKey?: string): void {
    this.malformedCount += 1;
    this.options.report.malformed(
      reason,
      link === undefined ? routingKey?.slice(0, 64) : `proxy ${link.proxyName}`,
    );
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** The dispatcher as a re-bind of the client ports tells it (revocation.ts), plus contacts. */
export interface ContactSink extends Reannouncer {
  contact(clientName: string, kind: "hello" | "pong"): void;
}

/**
 * What a re-bind of the client ports (a revoked client key) tells the dispatcher: it cut the
 * direct connections only. Clients behind proxies keep theirs, proven as before, so they stay
 * addressed instead of waiting for their next pong.
 */
export class DirectRebindReannouncer implements Reannouncer {
  constructor(
    private readonly dispatch: ContactSink,
    private readonly links: ProxyLinks,
  ) {}

  connectionsReplaced(): void {
    this.dispatch.connectionsReplaced();
    for (const name of this.links.boundNames()) this.dispatch.contact(name, "pong");
  }

  expedite(delayMs: number): void {
    this.dispatch.expedite(delayMs);
  }
}
