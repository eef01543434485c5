import * as zmq from "zeromq";
import { SOCKET_DEFAULTS } from "@osad2/protocol";
import type { KeyPair } from "@osad2/keys";
import {
  bindOnce as bindSocketOnce,
  bindWithRetry as bindSocketWithRetry,
  type BindOptions,
} from "@osad2/service-kit/zeromq";
import { SocketBindError } from "../errors.js";
import type { Logger } from "@osad2/service-kit";
import type {
  AcceptReport,
  ConnectionSender,
  HandshakeReport,
  InboundSource,
  Publisher,
  ReplySender,
  SendOutcome,
} from "./ports.js";
import { ClosedPeerLookup } from "./closing-peers.js";
import { ZAP_DOMAIN, ZAP_LISTENER_DOMAIN } from "./zap.js";

/** Options of {@link ServerSockets.open}. */
export interface ServerSocketsOptions {
  readonly context: zmq.Context;
  /** Bind address; `*` = all interfaces, IPv6 literals allowed. */
  readonly bind: string;
  /** PUB port; 0 = any free port (tests). */
  readonly publisherPort: number;
  /** ROUTER port (the seed's listener_port); 0 = any free port. */
  readonly routerPort: number;
  /** The server's CURVE key pair (Z85). */
  readonly keyPair: KeyPair;
  readonly logger: Logger;
  /** Told about CURVE handshakes that failed before ZAP was asked. Default: nobody. */
  readonly report?: HandshakeReport;
  /** Told about failed accepts (the descriptor watch pauses listening on EMFILE). Default: nobody. */
  readonly accept?: AcceptReport;
}

/** Which sockets are bound right now (for /healthz); `listener` is the ROUTER, as in listener_port. */
export interface SocketState {
  readonly publisher: boolean;
  readonly listener: boolean;
}

/** What CURVE adds to a frame on the wire ("\x07MESSAGE", nonce, MAC, flags: 33 bytes), rounded up. */
const CURVE_MESSAGE_OVERHEAD = 64;
/** Replies queued in this process at most (each is a few dozen bytes). */
const MAX_PENDING_REPLIES = 10_000;

export function endpointFor(bind: string, port: number): string {
  const host = bind.includes(":") && !bind.startsWith("[") ? `[${bind}]` : bind;
  return `tcp://${host}:${port}`;
}

/** Options of every CURVE server socket of this server (client ports and the proxy port). */
export function curveServerOptions(
  options: Pick<ServerSocketsOptions, "context" | "keyPair" | "bind">,
  zapDomain = ZAP_DOMAIN,
) {
  return {
    context: options.context,
    curveServer: true,
    curveSecretKey: options.keyPair.secretKey,
    curvePublicKey: options.keyPair.publicKey,
    zapDomain,
    // Without this libzmq lets a client in when no ZAP handler answers; with it, never.
    zapEnforceDomain: true,
    ipv6: options.bind.includes(":"),
    // No ZMTP heartbeats here: with thousands of peers libzmq 4.3.5's timer cancellation makes
    // them quadratic (connections stall near 5,000 clients). Liveness is the application ping;
    // kernel keepalive and TCP_USER_TIMEOUT reclaim the connections of hosts that vanished.
    tcpKeepalive: 1,
    tcpKeepaliveIdle: SOCKET_DEFAULTS.tcpKeepaliveIdle,
    tcpKeepaliveInterval: SOCKET_DEFAULTS.tcpKeepaliveInterval,
    tcpKeepaliveCount: SOCKET_DEFAULTS.tcpKeepaliveCount,
    tcpMaxRetransmitTimeout: SOCKET_DEFAULTS.serverTcpMaxRetransmitTimeout,
    linger: SOCKET_DEFAULTS.linger,
    maxMessageSize: SOCKET_DEFAULTS.maxMessageSize,
  };
}

/** A bound PUB and ROUTER pair; replaced as a whole by {@link ServerSockets.rebind}. */
interface SocketPair {
  readonly publisher: zmq.Publisher;
  readonly router: zmq.Router;
}

function newPublisher(options: ServerSocketsOptions): zmq.Publisher {
  return new zmq.Publisher({
    ...curveServerOptions(options),
    sendHighWaterMark: SOCKET_DEFAULTS.sendHighWaterMark,
  });
}

function newRouter(options: ServerSocketsOptions): zmq.Router {
  return new zmq.Router({
    ...curveServerOptions(options, ZAP_LISTENER_DOMAIN),
    // Twice the protocol's limit: a frame up to 8 KiB reaches the decoder, which counts and
    // logs it (too-large); libzmq disconnects a peer sending more, before buffering it.
    // libzmq checks the CURVE-encrypted size: 33 bytes more than the frame.
    maxMessageSize: 2 * SOCKET_DEFAULTS.maxMessageSize + CURVE_MESSAGE_OVERHEAD,
    // A client sends a few small messages per ping interval: 1,000 per connection bounds
    // what a flooding peer can make the server hold (1,000 × 4 KiB) without touching them.
    receiveHighWaterMark: SOCKET_DEFAULTS.serverReceiveHighWaterMark,
    sendHighWaterMark: SOCKET_DEFAULTS.serverSendHighWaterMark,
    // A client that reconnects before its old connection timed out takes over its routing id
    // instead of being refused as a duplicate. osad2 clients use random 16-byte routing ids,
    // which no other peer can see or guess (CURVE), so only seed-format clients (routing id =
    // client name, allow_unsigned_clients) can be displaced this way.
    handover: true,
    // A send to a connection that is gone fails at once (EHOSTUNREACH) instead of vanishing:
    // that is how a v3 client's disconnect is noticed at the next ping or checkin.
    mandatory: true,
    // With mandatory, a peer past its high-water mark would block the send (and every send
    // behind it): fail with EAGAIN instead, so one slow peer never holds up the others.
    sendTimeout: 0,
  });
}

/**
 * The server's two CURVE sockets: PUB (pings and checkins to every client) and ROUTER
 * (answers from clients, routing id = client name). The only module that touches them.
 */
export class ServerSockets implements Publisher, InboundSource, ReplySender, ConnectionSender {
  private sendChain: Promise<void> = Promise.resolve();
  private replyChain: Promise<void> = Promise.resolve();
  /** Replies waiting for their turn; beyond {@link MAX_PENDING_REPLIES} more are dropped. */
  private pendingReplies = 0;
  private bound = { publisher: false, listener: false };
  private readonly observers = new Set<Promise<void>>();
  private readonly closedPeers = new ClosedPeerLookup();
  private closing = false;
  /** Settles when a re-bind in progress has put the new pair in place. */
  private replacing: Promise<void> = Promise.resolve();
  /** While listening is paused: settles when it may resume. */
  private resumeGate: Promise<void> | undefined;
  private openResumeGate: (() => void) | undefined;

  private constructor(
    private readonly options: ServerSocketsOptions,
    private pair: SocketPair,
    /** The resolved PUB endpoint, e.g. tcp://127.0.0.1:5555. */
    readonly publisherEndpoint: string,
    /** The resolved ROUTER endpoint. */
    readonly routerEndpoint: string,
  ) {
    this.bound = { publisher: true, listener: true };
    this.observePair(pair);
  }

  /** Creates and binds both sockets. The ZAP handler must already be bound in the same context. */
  static async open(options: ServerSocketsOptions): Promise<ServerSockets> {
    const pair = { publisher: newPublisher(options), router: newRouter(options) };
    try {
      const publisherEndpoint = await bindOnce(
        pair.publisher,
        endpointFor(options.bind, options.publisherPort),
      );
      const routerEndpoint = await bindOnce(
        pair.router,
        endpointFor(options.bind, options.routerPort),
      );
      return new ServerSockets(options, pair, publisherEndpoint, routerEndpoint);
    } catch (error) {
      pair.publisher.close();
      pair.router.close();
      throw error;
    }
  }

  get state(): SocketState {
    return { ...this.bound };
  }

  /** The PUB port actually bound (useful when configured as 0). */
  get publisherPort(): number {
    return portOf(this.publisherEndpoint);
  }

  /** The ROUTER port actually bound. */
  get routerPort(): number {
    return portOf(this.routerEndpoint);
  }

  /**
   * Publishes one frame. PUB never blocks (it drops for a peer past its high-water mark),
   * but zeromq.js allows one send in flight per socket, so sends are chained (and wait
   * behind a re-bind).
   */
  publish(frame: Buffer): Promise<void> {
    const next = this.sendChain.then(() => this.pair.publisher.send(frame));
    this.sendChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Sends one frame to one connection over the ROUTER (challenges, refusals). Never blocks:
   * an unknown routing id or a peer past its high-water mark drops it, and so does a backlog.
   */
  reply(routingId: Buffer, frame: Buffer): void {
    if (this.pendingReplies >= MAX_PENDING_REPLIES) return;
    this.pendingReplies += 1;
    this.replyChain = this.replyChain
      .then(async () => {
        // Behind a re-bind in progress: the new ROUTER, not the closed one.
        await this.replacing;
        const router = this.pair.router;
        if (!router.closed) await router.send([routingId, frame]);
      })
      .catch(() => undefined)
      .finally(() => {
        this.pendingReplies -= 1;
      });
  }

  /**
   * Sends one frame to one connection (v3 pings and checkins). Never waits for the peer
   * (send timeout 0): "gone" when libzmq has no such connection, "full" past its high-water
   * mark or while the sockets are being replaced.
   */
  async sendTo(routingId: Buffer, frame: Buffer): Promise<SendOutcome> {
    const router = this.pair.router;
    if (router.closed || !this.bound.listener) return "full";
    try {
      await router.send([routingId, frame]);
      return "sent";
    } catch (error) {
      return (error as { code?: string }).code === "EHOSTUNREACH" ? "gone" : "full";
    }
  }

  /**
   * Messages from clients: [routing id, ...frames]. Carries on across a re-bind (on the new
   * ROUTER) and ends when the sockets close.
   */
  async *messages(): AsyncGenerator<Buffer[]> {
    for (;;) {
      const router = this.pair.router;
      try {
        for await (const message of router) yield message;
      } catch (error) {
        // The iterator throws when the socket is closed under a receive; anything else is real.
        if (!router.closed) throw error;
      }
      await this.replacing;
      if (this.closing || this.pair.router === router) return;
    }
  }

  /**
   * Cuts every connection and accepts new ones on the same endpoints: each client
   * reconnects (after its reconnect interval) and passes through ZAP again. Used when a
   * key is revoked, because ZAP only runs at handshake time and libzmq cannot drop one
   * peer of a bound socket.
   *
   * The pair is closed and replaced rather than unbound and bound again: an unbind leaves
   * the cut connections' teardown to the socket's own command queue, which an idle PUB
   * only works through on its next send (the revoked client stayed connected until then),
   * and a receive issued during bind/unbind fails with EBUSY. Closing hands the teardown
   * to libzmq's reaper, which does it at once.
   */
  async rebind(): Promise<void> {
    const replaced = this.sendChain.then(() => this.replacePair());
    this.replacing = replaced.catch(() => undefined);
    this.sendChain = this.replacing;
    await replaced;
  }

  private async replacePair(): Promise<void> {
    if (this.closing) return;
    const old = this.pair;
    this.bound = { publisher: false, listener: false };
    old.publisher.close();
    old.router.close();
    const pair = { publisher: newPublisher(this.options), router: newRouter(this.options) };
    // In place before binding: if binding fails, close() still finds the sockets to close.
    this.pair = pair;
    this.observePair(pair);
    await bindWithRetry(pair.publisher, this.publisherEndpoint);
    this.bound = { ...this.bound, publisher: true };
    await bindWithRetry(pair.router, this.routerEndpoint);
    this.bound = { publisher: true, listener: true };
  }

  /**
   * Stops listening on both ports until {@link resumeListening} (descriptor exhaustion: libzmq
   * retries a failing accept in a tight loop). The pair is closed, which drops its
   * connections and frees their descriptors; sends and receives wait for the new pair.
   */
  pauseListening(): void {
    if (this.resumeGate !== undefined || this.closing) return;
    let open = (): void => undefined;
    this.resumeGate = new Promise<void>((resolve) => (open = resolve));
    this.openResumeGate = open;
    const gate = this.resumeGate;
    this.bound = { publisher: false, listener: false };
    this.pair.publisher.close();
    this.pair.router.close();
    const replaced = this.sendChain.then(async () => {
      await gate;
      await this.replacePair();
    });
    this.replacing = replaced.catch(() => undefined);
    this.sendChain = this.replacing;
  }

  /** Listens again after {@link pauseListening} (a new pair on the same endpoints). */
  resumeListening(): void {
    const open = this.openResumeGate;
    this.resumeGate = undefined;
    this.openResumeGate = undefined;
    open?.();
  }

  /** Closes both sockets (pending sends are dropped: linger 0). Idempotent. */
  async close(): Promise<void> {
    if (this.resumeGate !== undefined) {
      this.closing = true;
      this.resumeListening();
    }
    await this.sendChain;
    this.closing = true;
    this.bound = { publisher: false, listener: false };
    if (!this.pair.publisher.closed) this.pair.publisher.close();
    if (!this.pair.router.closed) this.pair.router.close();
    await Promise.all([...this.observers]);
  }

  private observePair(pair: SocketPair): void {
    for (const socket of [pair.publisher, pair.router]) {
      const observer = this.observe(socket);
      this.observers.add(observer);
      void observer.finally(() => this.observers.delete(observer));
    }
  }

  private async observe(socket: zmq.Socket): Promise<void> {
    try {
      for await (const event of socket.events) {
        if (event.type === "handshake:error:protocol" || event.type === "handshake:error:other") {
          const failure = { endpoint: event.address, code: event.error.code };
          // libzmq names only our endpoint; the connection it just dropped names the peer.
          void this.closedPeers
            .peersOf(portOf(event.address))
            .then((peers) => this.options.report?.handshakeFailed({ ...failure, peers }));
        } else if (event.type === "accept:error") {
          this.options.accept?.acceptFailed(event.error.code);
        }
      }
    } catch (error) {
      if (!socket.closed) this.options.logger.debug({ err: error }, "socket event observer ended");
    }
  }
}

export function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

const BIND: BindOptions = { inUseBy: "another osad2-server", errorClass: SocketBindError };

/** @throws {SocketBindError} */
export function bindOnce(socket: zmq.Socket, endpoint: string): Promise<string> {
  return bindSocketOnce(socket, endpoint, BIND);
}

/** @throws {SocketBindError} */
export function bindWithRetry(socket: zmq.Socket, endpoint: string): Promise<string> {
  return bindSocketWithRetry(socket, endpoint, BIND);
}
