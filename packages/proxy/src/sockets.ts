import * as zmq from "zeromq";
import { SOCKET_DEFAULTS } from "@osad2/protocol";
import type { KeyPair } from "@osad2/keys";
import { tcpEndpoint } from "@osad2/service-kit";
import {
  assertCurveAvailable,
  bindOnce as bindSocketOnce,
  bindWithRetry as bindSocketWithRetry,
  type BindOptions,
} from "@osad2/service-kit/zeromq";
import { ProxyBindError } from "./errors.js";

/** Socket slots of the proxy's context: ZAP, upstream DEALER, two ROUTERs and spares for a re-bind. */
const ZMQ_MAX_SOCKETS = 64;
/** What CURVE adds to a frame on the wire (33 bytes), rounded up. */
const CURVE_MESSAGE_OVERHEAD = 64;
/** libzmq's ZMQ_ROUTER_NOTIFY (draft API): an empty message per peer connect and disconnect. */
const ZMQ_ROUTER_NOTIFY = 97;
const NOTIFY_CONNECT_AND_DISCONNECT = 3;

/**
 * One context per proxy: the ZAP handler must live in the context of the sockets it
 * authenticates, and a private one keeps two proxies in one process (tests) apart.
 */
export function createProxyContext(): zmq.Context {
  assertCurveAvailable(zmq.capability);
  const context = new zmq.Context({ blocky: false });
  context.maxSockets = Math.min(ZMQ_MAX_SOCKETS, context.maxSocketsLimit);
  return context;
}

/** A ROUTER facing many peers (clients, or child proxies), CURVE server with the proxy's key. */
export function newFacingRouter(options: {
  readonly context: zmq.Context;
  readonly keyPair: KeyPair;
  readonly zapDomain: string;
  readonly ipv6: boolean;
  /** Payloads up to this many bytes pass; libzmq drops a peer sending more. */
  readonly maxFrameBytes: number;
  /** Connect/disconnect notifications (empty frames), for client ports. */
  readonly notify: boolean;
  readonly highWaterMark: number;
}): zmq.Router {
  const router = new zmq.Router({
    context: options.context,
    curveServer: true,
    curveSecretKey: options.keyPair.secretKey,
    curvePublicKey: options.keyPair.publicKey,
    zapDomain: options.zapDomain,
    // Without this libzmq lets a peer in when no ZAP handler answers; with it, never.
    zapEnforceDomain: true,
    ipv6: options.ipv6,
    // No ZMTP heartbeats towards thousands of peers (libzmq 4.3.5's timers make them
    // quadratic): clients ping us; kernel keepalive reclaims vanished hosts.
    tcpKeepalive: 1,
    tcpKeepaliveIdle: SOCKET_DEFAULTS.tcpKeepaliveIdle,
    tcpKeepaliveInterval: SOCKET_DEFAULTS.tcpKeepaliveInterval,
    tcpKeepaliveCount: SOCKET_DEFAULTS.tcpKeepaliveCount,
    linger: 0,
    maxMessageSize: options.maxFrameBytes + CURVE_MESSAGE_OVERHEAD,
    receiveHighWaterMark: options.highWaterMark,
    sendHighWaterMark: options.highWaterMark,
    handover: true,
    // A send to a peer that is gone fails (EHOSTUNREACH): that is how a lost peer is noticed.
    mandatory: true,
    // One slow peer never holds up the rest: past its high-water mark a send fails at once.
    sendTimeout: 0,
  });
  if (options.notify) {
    // Not in zeromq.js's typed options: set through its generic setter.
    (router as unknown as { setInt32Option(id: number, value: number): void }).setInt32Option(
      ZMQ_ROUTER_NOTIFY,
      NOTIFY_CONNECT_AND_DISCONNECT,
    );
  }
  return router;
}

/** `tcp://host:port` to bind on; `*` = every interface. */
export function bindEndpoint(bind: string, port: number): string {
  return bind === "*" ? `tcp://*:${port}` : tcpEndpoint(bind, port);
}

const BIND: BindOptions = {
  inUseBy: "another osad2-proxy or osad2-server",
  errorClass: ProxyBindError,
};

/** Binds once; resolves with the endpoint actually bound. @throws {ProxyBindError} */
export function bindOnce(socket: zmq.Socket, endpoint: string): Promise<string> {
  return bindSocketOnce(socket, endpoint, BIND);
}

/** Binds a new socket where a closed one was. @throws {ProxyBindError} */
export function bindWithRetry(socket: zmq.Socket, endpoint: string): Promise<string> {
  return bindSocketWithRetry(socket, endpoint, BIND);
}

export function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

/**
 * Sends on one socket in order, one send in flight (as zeromq.js requires), never waiting for
 * a peer: the socket's sendTimeout is 0, so a full peer fails at once. Bounded: past
 * `maxPending` queued sends more are dropped (a flood must not grow the heap).
 */
export class SerialSender {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly socket: () => zmq.Socket & { send(frames: Buffer[]): Promise<void> },
    private readonly maxPending = 100_000,
  ) {}

  /** Resolves with the send's error code (`EHOSTUNREACH`, `EAGAIN` …), or undefined when sent. */
  send(frames: Buffer[]): Promise<string | undefined> {
    if (this.pending >= this.maxPending) return Promise.resolve("EOVERFLOW");
    this.pending += 1;
    const result = this.chain.then(async () => {
      try {
        const socket = this.socket();
        if (socket.closed) return "ECLOSED";
        await socket.send(frames);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code ?? "EUNKNOWN";
      } finally {
        this.pending -= 1;
      }
    });
    this.chain = result.then(() => undefined);
    return result;
  }

  /** Settles when every queued send has been tried. */
  drained(): Promise<void> {
    return this.chain;
  }
}
