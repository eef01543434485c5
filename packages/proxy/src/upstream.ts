import { randomBytes } from "node:crypto";
import * as zmq from "zeromq";
import {
  decodeLinkDown,
  encodeLinkUp,
  LINK_KEEPALIVE_MS,
  MAX_LINK_PAYLOAD_BYTES,
  ProtocolError,
  SOCKET_DEFAULTS,
  type LinkDownMessage,
  type LinkUpMessage,
} from "@osad2/protocol";
import type { KeyPair } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";
import { SerialSender } from "./sockets.js";

/** First reconnect to a parent after this; doubling up to {@link UPSTREAM_RECONNECT_MAX_MS}. */
export const UPSTREAM_RECONNECT_MS = 100;
/** One link per proxy: it may retry often, so a restored path is used within 2 s. */
export const UPSTREAM_RECONNECT_MAX_MS = 2_000;
/** Queued link messages at most (the link carries every client behind the proxy). */
const LINK_SEND_HIGH_WATER_MARK = 200_000;
const CURVE_MESSAGE_OVERHEAD = 64;

/** Told what happens on the link. Must not throw. */
export interface UpstreamEvents {
  /** A new session started (a new connection to a parent, or `relink`): re-announce every conn now. */
  sessionStarted(session: string): void;
  /** No parent is connected any more. */
  linkLost(): void;
  /** One message from the parent. */
  received(message: LinkDownMessage): void;
  /** An undecodable message from the parent was dropped. */
  malformed(reason: string): void;
}

/** Options of {@link UpstreamLink}. */
export interface UpstreamLinkOptions {
  readonly context: zmq.Context;
  /** tcp:// endpoints of the parents (failover servers: only the active one binds). */
  readonly endpoints: readonly string[];
  readonly keyPair: KeyPair;
  readonly upstreamPublicKey: string;
  readonly proxyName: string;
  readonly logger: Logger;
  readonly events: UpstreamEvents;
}

/** What {@link UpstreamLink.state} reports. */
export interface UpstreamState {
  readonly connected: boolean;
  /** The parent answered `linked` to the current session. */
  readonly linked: boolean;
  readonly session: string | undefined;
  /** The parent endpoint(s) connected now. */
  readonly endpoints: readonly string[];
}

/**
 * The proxy's one link to its parent: a CURVE DEALER connected to every listed parent with
 * ZMQ_IMMEDIATE (messages go only to a connection that completed its handshake, so a standby
 * server never gets them), ZMTP heartbeats (a cut path is found within 20 s, as a client
 * finds it) and a short reconnect back-off. Each new connection starts a new session.
 */
export class UpstreamLink {
  private dealer: zmq.Dealer | undefined;
  private readonly sender = new SerialSender(() => this.requireDealer(), LINK_SEND_HIGH_WATER_MARK);
  private readonly live = new Set<string>();
  private session: string | undefined;
  private linked = false;
  private keepalive: NodeJS.Timeout | undefined;
  private receiving: Promise<void> = Promise.resolve();

  constructor(private readonly options: UpstreamLinkOptions) {}

  get state(): UpstreamState {
    return {
      connected: this.live.size > 0,
      linked: this.linked,
      session: this.session,
      endpoints: [...this.live],
    };
  }

  /** True while a session is running (messages may be sent). */
  get up(): boolean {
    return this.live.size > 0 && this.session !== undefined;
  }

  start(): void {
    if (this.dealer !== undefined) return;
    const { keyPair } = this.options;
    const dealer = new zmq.Dealer({
      context: this.options.context,
      curveServerKey: this.options.upstreamPublicKey,
      curvePublicKey: keyPair.publicKey,
      curveSecretKey: keyPair.secretKey,
      immediate: true,
      linger: 0,
      heartbeatInterval: SOCKET_DEFAULTS.heartbeatInterval,
      heartbeatTimeout: SOCKET_DEFAULTS.heartbeatTimeout,
      heartbeatTimeToLive: SOCKET_DEFAULTS.heartbeatTimeToLive,
      reconnectInterval: UPSTREAM_RECONNECT_MS,
      reconnectMaxInterval: UPSTREAM_RECONNECT_MAX_MS,
      tcpKeepalive: 1,
      tcpKeepaliveIdle: SOCKET_DEFAULTS.tcpKeepaliveIdle,
      tcpKeepaliveInterval: SOCKET_DEFAULTS.tcpKeepaliveInterval,
      tcpKeepaliveCount: SOCKET_DEFAULTS.tcpKeepaliveCount,
      maxMessageSize: MAX_LINK_PAYLOAD_BYTES + 2048 + CURVE_MESSAGE_OVERHEAD,
      sendHighWaterMark: LINK_SEND_HIGH_WATER_MARK,
      receiveHighWaterMark: LINK_SEND_HIGH_WATER_MARK,
      // Never block: past the high-water mark (a parent not reading) messages are dropped.
      sendTimeout: 0,
    });
    this.dealer = dealer;
    this.watch(dealer);
    for (const endpoint of this.options.endpoints) dealer.connect(endpoint);
    this.receiving = this.receive(dealer);
    this.keepalive = setInterval(() => {
      if (this.up && this.session !== undefined)
        this.send({ kind: "alive", session: this.session });
    }, LINK_KEEPALIVE_MS);
    this.keepalive.unref();
    this.options.logger.info({ upstream: this.options.endpoints }, "connecting to the parent");
  }

  /**
   * Queues one message for the parent; false (dropped) while no session runs. Never waits for
   * the parent: past the high-water mark the message is dropped.
   */
  send(message: LinkUpMessage): boolean {
    if (!this.up) return false;
    void this.sender.send(encodeLinkUp(message)).then((code) => {
      if (code !== undefined && code !== "ECLOSED")
        this.options.logger.debug({ code, kind: message.kind }, "link message dropped");
    });
    return true;
  }

  /** Starts a new session (`relink`, or a new connection): `link`, then the owner re-announces. */
  newSession(): void {
    if (this.live.size === 0) return;
    const session = randomBytes(12).toString("base64url");
    this.session = session;
    this.linked = false;
    this.send({
      kind: "link",
      version: 1,
      proxyName: this.options.proxyName,
      session,
    });
    this.options.logger.info({ session, upstream: [...this.live] }, "link session started");
    this.options.events.sessionStarted(session);
  }

  /** Closes the link (pending messages are dropped: linger 0). Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.keepalive);
    const dealer = this.dealer;
    if (dealer !== undefined && !dealer.closed) {
      await this.sender.drained();
      dealer.close();
    }
    this.live.clear();
    this.session = undefined;
    await this.receiving;
  }

  private requireDealer(): zmq.Dealer {
    if (this.dealer === undefined) throw new Error("link not started");
    return this.dealer;
  }

  private watch(dealer: zmq.Dealer): void {
    const events = dealer.events;
    events.on("handshake", ({ address }) => {
      if (dealer.closed) return;
      this.live.add(address);
      this.options.logger.info({ upstream: address }, "connected to the parent");
      // Every new connection may be another server (failover, a restart): a new session.
      this.newSession();
    });
    events.on("disconnect", ({ address }) => {
      if (dealer.closed || !this.live.delete(address)) return;
      this.options.logger.warn({ upstream: address }, "lost the parent; reconnecting");
      if (this.live.size > 0) return;
      this.session = undefined;
      this.linked = false;
      this.options.events.linkLost();
    });
    const failed = (kind: string) => (data: { address: string; error?: Error }) => {
      if (dealer.closed) return;
      this.options.logger.warn(
        { upstream: data.address, event: kind, err: data.error },
        kind === "handshake:error:auth"
          ? "the parent refused this proxy's key (is proxies/NAME.key on the server?)"
          : "CURVE handshake with the parent failed (is public_keys/upstream.key the parent's key?)",
      );
    };
    events.on("handshake:error:auth", failed("handshake:error:auth"));
    events.on("handshake:error:protocol", failed("handshake:error:protocol"));
    events.on("handshake:error:other", failed("handshake:error:other"));
  }

  private async receive(dealer: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of dealer) {
        let message: LinkDownMessage;
        try {
          message = decodeLinkDown(frames);
        } catch (error) {
          this.options.events.malformed(
            error instanceof ProtocolError ? error.reason : "undecodable",
          );
          continue;
        }
        if (message.kind === "linked") {
          if (message.session === this.session) this.linked = true;
          this.options.logger.info({ session: message.session }, "linked");
        }
        this.options.events.received(message);
      }
    } catch (error) {
      if (!dealer.closed)
        this.options.logger.error({ err: error }, "receiving from the parent failed");
    }
  }
}
