import type * as zmq from "zeromq";
import { MAX_LINK_PAYLOAD_BYTES, SOCKET_DEFAULTS } from "@osad2/protocol";
import type { KeyPair } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";
import type { AttributionGate } from "./attribution.js";
import { bindOnce, bindWithRetry, newFacingRouter, SerialSender } from "./sockets.js";
import { CLIENT_ZAP_DOMAIN } from "./zap.js";

/** One client connection behind this proxy. */
export interface ClientConnection {
  /** The connection id on the link (a plain uint32: the parent nests it). */
  readonly conn: string;
  readonly routingId: Buffer;
  /** Its CURVE key, from the handshake that let it in; null when it could not be told. */
  readonly publicKey: string | null;
  readonly address: string | null;
}

/** Told about client connections. Must not throw. */
export interface ClientPortEvents {
  opened(connection: ClientConnection): void;
  /** A frame the client sent, to carry up unchanged. */
  received(connection: ClientConnection, payload: Buffer): void;
  closed(connection: ClientConnection): void;
  /** A message that is not one frame was dropped. */
  malformed(reason: string): void;
}

/** Options of {@link ClientPort.open}. */
export interface ClientPortOptions {
  readonly context: zmq.Context;
  readonly endpoint: string;
  readonly ipv6: boolean;
  readonly keyPair: KeyPair;
  readonly gate: AttributionGate;
  readonly events: ClientPortEvents;
  readonly logger: Logger;
}

const CONN_LIMIT = 0xffff_ffff;

/**
 * The port clients connect to: a ROUTER like the server's listener_port, with ROUTER_NOTIFY so
 * each connection's start and end is seen (no ZMTP heartbeats towards thousands of peers).
 * Each connection gets a connection id and the key its handshake was admitted with.
 */
export class ClientPort {
  private router: zmq.Router;
  private readonly byRoutingId = new Map<string, ClientConnection>();
  private readonly byConn = new Map<string, ClientConnection>();
  private nextConn = 1;
  private receiving: Promise<void>;
  private readonly sender = new SerialSender(() => this.router);
  private closing = false;
  private rebinding: Promise<void> | undefined;

  private constructor(
    private readonly options: ClientPortOptions,
    router: zmq.Router,
    /** The endpoint actually bound (the real port when 0 was asked). */
    readonly endpoint: string,
  ) {
    this.router = router;
    this.receiving = this.receive(router);
  }

  static async open(options: ClientPortOptions): Promise<ClientPort> {
    const router = ClientPort.newRouter(options);
    try {
      const endpoint = await bindOnce(router, options.endpoint);
      return new ClientPort(options, router, endpoint);
    } catch (error) {
      router.close();
      throw error;
    }
  }

  private static newRouter(options: ClientPortOptions): zmq.Router {
    return newFacingRouter({
      context: options.context,
      keyPair: options.keyPair,
      zapDomain: CLIENT_ZAP_DOMAIN,
      ipv6: options.ipv6,
      maxFrameBytes: MAX_LINK_PAYLOAD_BYTES,
      notify: true,
      highWaterMark: SOCKET_DEFAULTS.serverReceiveHighWaterMark,
    });
  }

  /** Every open connection (to re-announce on a new link session). */
  connections(): Iterable<ClientConnection> {
    return this.byConn.values();
  }

  get size(): number {
    return this.byConn.size;
  }

  /** Passes one frame from the parent to the client of `conn`; a gone client is closed. */
  deliver(conn: string, payload: Buffer): void {
    const connection = this.byConn.get(conn);
    if (connection === undefined) return;
    void this.sender.send([connection.routingId, payload]).then((code) => {
      if (code === "EHOSTUNREACH") this.forget(connection);
    });
  }

  /** True when a connection of this key is open (or one could not be attributed). */
  hasKey(publicKey: string): boolean {
    for (const connection of this.byConn.values())
      if (connection.publicKey === publicKey || connection.publicKey === null) return true;
    return false;
  }

  /**
   * Cuts every connection: libzmq cannot drop one peer of a bound ROUTER, so the socket is
   * closed and a new one bound on the same endpoint; clients reconnect (1-2 s) and pass ZAP
   * again. Used when a key is revoked.
   */
  rebind(): Promise<void> {
    this.rebinding ??= this.replace().finally(() => (this.rebinding = undefined));
    return this.rebinding;
  }

  private async replace(): Promise<void> {
    if (this.closing) return;
    await this.sender.drained();
    const old = this.router;
    old.close();
    await this.receiving;
    for (const connection of [...this.byConn.values()]) this.forget(connection);
    const router = ClientPort.newRouter(this.options);
    this.router = router;
    this.receiving = this.receive(router);
    await bindWithRetry(router, this.endpoint);
    this.options.logger.info(
      { endpoint: this.endpoint },
      "client port re-bound (every client reconnects)",
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.rebinding;
    await this.sender.drained();
    if (!this.router.closed) this.router.close();
    await this.receiving;
  }

  private forget(connection: ClientConnection): void {
    if (this.byConn.get(connection.conn) !== connection) return;
    this.byConn.delete(connection.conn);
    const key = connection.routingId.toString("latin1");
    if (this.byRoutingId.get(key) === connection) this.byRoutingId.delete(key);
    this.options.events.closed(connection);
  }

  /** A new connection; `handshaken`: its ROUTER_NOTIFY connect (its handshake's key is waiting). */
  private connect(routingId: Buffer, handshaken: boolean): void {
    const who = handshaken ? this.options.gate.claim() : undefined;
    const key = routingId.toString("latin1");
    const old = this.byRoutingId.get(key);
    if (old !== undefined) this.forget(old);
    if (handshaken && who === undefined && routingId[0] === 0) {
      // The last word of a connection libzmq renamed when its peer came back with the same
      // routing id (handover): nothing to open.
      return;
    }
    const conn = String(this.nextConn);
    this.nextConn = this.nextConn >= CONN_LIMIT ? 1 : this.nextConn + 1;
    const connection: ClientConnection = {
      conn,
      routingId: Buffer.from(routingId),
      publicKey: who?.publicKey ?? null,
      address: who?.address ?? null,
    };
    this.byRoutingId.set(key, connection);
    this.byConn.set(conn, connection);
    this.options.events.opened(connection);
  }

  private async receive(router: zmq.Router): Promise<void> {
    try {
      for await (const [routingId, ...frames] of router) {
        if (routingId === undefined) continue;
        const known = this.byRoutingId.get(routingId.toString("latin1"));
        if (frames.length === 1 && frames[0]?.byteLength === 0) {
          // ROUTER_NOTIFY: a known routing id's empty message is its disconnect, a new one's its connect.
          if (known !== undefined) this.forget(known);
          else this.connect(routingId, true);
          continue;
        }
        const payload = frames[0];
        if (frames.length !== 1 || payload === undefined) {
          this.options.events.malformed("frame-count");
          continue;
        }
        if (known !== undefined) {
          this.options.events.received(known, payload);
          continue;
        }
        // A connection whose connect we did not see (it took over its routing id): open it
        // unattributed; the server decides what it may do.
        this.connect(routingId, false);
        const opened = this.byRoutingId.get(routingId.toString("latin1"));
        if (opened !== undefined) this.options.events.received(opened, payload);
      }
    } catch (error) {
      if (!router.closed)
        this.options.logger.error({ err: error }, "receiving from clients failed");
    }
  }
}
