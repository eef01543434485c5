import type * as zmq from "zeromq";
import {
  decodeLinkUp,
  encodeLinkDown,
  LINK_SILENCE_MS,
  MAX_LINK_PAYLOAD_BYTES,
  ProtocolError,
  type KeyKind,
  type LinkDownMessage,
  type LinkUpMessage,
} from "@osad2/protocol";
import type { KeyPair } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";
import { bindOnce, bindWithRetry, newFacingRouter, SerialSender } from "./sockets.js";
import { PROXY_ZAP_DOMAIN } from "./zap.js";

/** A client connection behind a child proxy, as it announced it (`open`). */
export interface ChildConnection {
  /** The child link's number here; upstream the connection is `LINK.conn`. */
  readonly link: number;
  /** The connection id on the child's link. */
  readonly conn: string;
  readonly path: readonly string[];
  readonly address: string | null;
  readonly publicKey: string | null;
}

/** Told what child proxies say. Must not throw. */
export interface ProxyPortEvents {
  opened(connection: ChildConnection): void;
  received(connection: ChildConnection, payload: Buffer): void;
  closed(connection: ChildConnection): void;
  /** A child asks whether a key may connect to it; answer with {@link ProxyPort.answer}. */
  admitQuestion(link: number, query: string, keyKind: KeyKind, publicKey: string): void;
  malformed(reason: string): void;
}

/** Options of {@link ProxyPort.open}. */
export interface ProxyPortOptions {
  readonly context: zmq.Context;
  readonly endpoint: string;
  readonly ipv6: boolean;
  readonly keyPair: KeyPair;
  readonly events: ProxyPortEvents;
  readonly logger: Logger;
}

interface ChildLink {
  readonly link: number;
  readonly routingId: Buffer;
  readonly name: string;
  readonly session: string;
  lastHeard: number;
  readonly conns: Map<string, ChildConnection>;
}

const LINK_LIMIT = 0xffff_ffff;
/** Messages queued per child link at most. */
const CHILD_HIGH_WATER_MARK = 100_000;

/**
 * The port child proxies connect to: this proxy is their parent, speaking the same link the
 * server speaks. Each child session is a link number; its connections go upstream as
 * `LINK.conn` (nestConnectionId) with this proxy's name in front of their path.
 */
export class ProxyPort {
  private router: zmq.Router;
  private readonly byRoutingId = new Map<string, ChildLink>();
  private readonly byLink = new Map<number, ChildLink>();
  private nextLink = 1;
  private receiving: Promise<void>;
  private readonly sender = new SerialSender(() => this.router);
  private readonly silence: NodeJS.Timeout;
  private closing = false;

  private constructor(
    private readonly options: ProxyPortOptions,
    router: zmq.Router,
    readonly endpoint: string,
  ) {
    this.router = router;
    this.receiving = this.receive(router);
    this.silence = setInterval(() => this.dropSilent(), LINK_SILENCE_MS / 4);
    this.silence.unref();
  }

  static async open(options: ProxyPortOptions): Promise<ProxyPort> {
    const router = ProxyPort.newRouter(options);
    try {
      const endpoint = await bindOnce(router, options.endpoint);
      return new ProxyPort(options, router, endpoint);
    } catch (error) {
      router.close();
      throw error;
    }
  }

  private static newRouter(options: ProxyPortOptions): zmq.Router {
    return newFacingRouter({
      context: options.context,
      keyPair: options.keyPair,
      zapDomain: PROXY_ZAP_DOMAIN,
      ipv6: options.ipv6,
      maxFrameBytes: MAX_LINK_PAYLOAD_BYTES + 2048,
      notify: false,
      highWaterMark: CHILD_HIGH_WATER_MARK,
    });
  }

  /** Every connection behind every child (to re-announce on a new upstream session). */
  *connections(): Iterable<ChildConnection> {
    for (const link of this.byLink.values()) yield* link.conns.values();
  }

  get links(): number {
    return this.byLink.size;
  }

  /** A frame from the parent for connection `conn` of child link `link`. */
  deliver(link: number, conn: string, payload: Buffer): void {
    this.sendTo(link, { kind: "to", conn, payload });
  }

  /** The answer to a child's `admit?`. */
  answer(link: number, query: string, allow: boolean): void {
    this.sendTo(link, { kind: "admit", query, allow });
  }

  /** Tells every child a key was revoked (they forget it and cut its connections). */
  revoked(keyKind: KeyKind, publicKey: string): void {
    for (const link of this.byLink.values())
      this.sendTo(link.link, { kind: "revoked", keyKind, publicKey });
  }

  /** Cuts every child link (a child proxy's key was revoked): they reconnect and pass ZAP again. */
  async rebind(): Promise<void> {
    if (this.closing) return;
    await this.sender.drained();
    this.router.close();
    await this.receiving;
    for (const link of [...this.byLink.values()]) this.drop(link);
    const router = ProxyPort.newRouter(this.options);
    this.router = router;
    this.receiving = this.receive(router);
    await bindWithRetry(router, this.endpoint);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.silence);
    await this.sender.drained();
    if (!this.router.closed) this.router.close();
    await this.receiving;
  }

  private sendTo(link: number, message: LinkDownMessage): void {
    const child = this.byLink.get(link);
    if (child === undefined) return;
    void this.sender.send([child.routingId, ...encodeLinkDown(message)]).then((code) => {
      if (code === "EHOSTUNREACH") this.drop(child);
    });
  }

  private reply(routingId: Buffer, message: LinkDownMessage): void {
    void this.sender.send([routingId, ...encodeLinkDown(message)]);
  }

  private drop(link: ChildLink): void {
    if (this.byLink.get(link.link) !== link) return;
    this.byLink.delete(link.link);
    const key = link.routingId.toString("latin1");
    if (this.byRoutingId.get(key) === link) this.byRoutingId.delete(key);
    for (const connection of link.conns.values()) this.options.events.closed(connection);
    link.conns.clear();
    this.options.logger.info({ child: link.name, link: link.link }, "child proxy link dropped");
  }

  private dropSilent(): void {
    const now = Date.now();
    for (const link of [...this.byLink.values()])
      if (now - link.lastHeard > LINK_SILENCE_MS) this.drop(link);
  }

  private async receive(router: zmq.Router): Promise<void> {
    try {
      for await (const [routingId, ...frames] of router) {
        if (routingId === undefined) continue;
        let message: LinkUpMessage;
        try {
          message = decodeLinkUp(frames);
        } catch (error) {
          this.options.events.malformed(
            error instanceof ProtocolError ? error.reason : "undecodable",
          );
          continue;
        }
        this.handle(routingId, message);
      }
    } catch (error) {
      if (!router.closed)
        this.options.logger.error({ err: error }, "receiving from child proxies failed");
    }
  }

  private handle(routingId: Buffer, message: LinkUpMessage): void {
    const key = routingId.toString("latin1");
    const current = this.byRoutingId.get(key);
    if (message.kind === "link") {
      if (current !== undefined) this.drop(current);
      const link: ChildLink = {
        link: this.nextLink,
        routingId: Buffer.from(routingId),
        name: message.proxyName,
        session: message.session,
        lastHeard: Date.now(),
        conns: new Map(),
      };
      this.nextLink = this.nextLink >= LINK_LIMIT ? 1 : this.nextLink + 1;
      this.byRoutingId.set(key, link);
      this.byLink.set(link.link, link);
      this.reply(routingId, { kind: "linked", session: message.session });
      this.options.logger.info({ child: link.name, link: link.link }, "child proxy linked");
      return;
    }
    if (current === undefined) {
      // A child whose session we do not know (we restarted, or dropped it as silent).
      this.reply(routingId, { kind: "relink" });
      return;
    }
    current.lastHeard = Date.now();
    const { events } = this.options;
    switch (message.kind) {
      case "alive":
        if (message.session !== current.session) {
          this.drop(current);
          this.reply(routingId, { kind: "relink" });
        }
        return;
      case "open": {
        const old = current.conns.get(message.conn);
        if (old !== undefined) events.closed(old);
        const connection: ChildConnection = {
          link: current.link,
          conn: message.conn,
          path: message.path,
          address: message.address,
          publicKey: message.publicKey,
        };
        current.conns.set(message.conn, connection);
        events.opened(connection);
        return;
      }
      case "from": {
        const connection = current.conns.get(message.conn);
        if (connection !== undefined) events.received(connection, message.payload);
        return;
      }
      case "close": {
        const connection = current.conns.get(message.conn);
        if (connection === undefined) return;
        current.conns.delete(message.conn);
        events.closed(connection);
        return;
      }
      case "admit?":
        events.admitQuestion(current.link, message.query, message.keyKind, message.publicKey);
        return;
    }
  }
}
