import * as zmq from "zeromq";
import { MAX_LINK_PAYLOAD_BYTES } from "@osad2/protocol";
import type { KeyPair } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";
import type { HandshakeReport, SendOutcome } from "./ports.js";
import { bindOnce, bindWithRetry, curveServerOptions, endpointFor, portOf } from "./sockets.js";
import { ZAP_PROXY_DOMAIN } from "./zap.js";

/** Options of {@link ProxyPort.open}. */
export interface ProxyPortOptions {
  readonly context: zmq.Context;
  /** Bind address, as the client ports'. */
  readonly bind: string;
  /** proxy_port; 0 = any free port (tests). */
  readonly port: number;
  readonly keyPair: KeyPair;
  readonly logger: Logger;
  /** Told about CURVE handshakes that failed before ZAP was asked (a proxy with a wrong server key). */
  readonly report?: HandshakeReport;
}

/** What CURVE adds to a frame on the wire, rounded up (as on the client ROUTER). */
const CURVE_MESSAGE_OVERHEAD = 64;
/**
 * Messages queued per link at most, each way: one link carries up to a few thousand clients'
 * pings, pongs and checkins, so far more than one client's connection.
 */
const LINK_HIGH_WATER_MARK = 100_000;

function newRouter(options: ProxyPortOptions): zmq.Router {
  return new zmq.Router({
    // Its own ZAP domain: only keys of proxies/ pass (zap.ts), never a client's key.
    ...curveServerOptions(options, ZAP_PROXY_DOMAIN),
    maxMessageSize: MAX_LINK_PAYLOAD_BYTES + CURVE_MESSAGE_OVERHEAD,
    receiveHighWaterMark: LINK_HIGH_WATER_MARK,
    sendHighWaterMark: LINK_HIGH_WATER_MARK,
    handover: true,
    // A send to a link that is gone fails at once (EHOSTUNREACH), and one past its high-water
    // mark fails at once too (EAGAIN) instead of holding up every other link.
    mandatory: true,
    sendTimeout: 0,
  });
}

/**
 * The proxy port: a CURVE ROUTER osad2 proxies' DEALERs connect to, one connection (a link)
 * per proxy. The only module that touches that socket. No ZMTP heartbeats: each link says
 * `alive` every second (proxy-link.ts), and its silence is what drops it.
 */
export class ProxyPort {
  private router: zmq.Router;
  private closing = false;
  private replacing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: ProxyPortOptions,
    router: zmq.Router,
    /** The resolved endpoint, e.g. tcp://127.0.0.1:5558. */
    readonly endpoint: string,
  ) {
    this.router = router;
    this.observe(router);
  }

  /** Creates and binds the socket. The ZAP handler (with the proxies' domain) must be bound first. */
  static async open(options: ProxyPortOptions): Promise<ProxyPort> {
    const router = newRouter(options);
    try {
      const endpoint = await bindOnce(router, endpointFor(options.bind, options.port));
      return new ProxyPort(options, router, endpoint);
    } catch (error) {
      router.close();
      throw error;
    }
  }

  get port(): number {
    return portOf(this.endpoint);
  }

  get bound(): boolean {
    return !this.router.closed;
  }

  /** Sends one message to one link; never waits for the peer. */
  async send(routingId: Buffer, frames: readonly Buffer[]): Promise<SendOutcome> {
    const router = this.router;
    if (router.closed) return "full";
    try {
      await router.send([routingId, ...frames]);
      return "sent";
    } catch (error) {
      return (error as { code?: string }).code === "EHOSTUNREACH" ? "gone" : "full";
    }
  }

  /** [routing id, ...frames] per message; carries on across a re-bind, ends on close. */
  async *messages(): AsyncGenerator<Buffer[]> {
    for (;;) {
      const router = this.router;
      try {
        for await (const message of router) yield message;
      } catch (error) {
        if (!router.closed) throw error;
      }
      await this.replacing;
      if (this.closing || this.router === router) return;
    }
  }

  /**
   * Cuts every link and accepts new ones on the same endpoint (a proxy key was revoked: ZAP
   * runs only at handshake, and libzmq cannot drop one peer). Each proxy reconnects and
   * passes ZAP again; the revoked one is refused.
   */
  async rebind(): Promise<void> {
    const replaced = this.replacing.then(async () => {
      if (this.closing) return;
      this.router.close();
      this.router = newRouter(this.options);
      this.observe(this.router);
      await bindWithRetry(this.router, this.endpoint);
    });
    this.replacing = replaced.catch(() => undefined);
    await replaced;
  }

  private observe(socket: zmq.Router): void {
    void (async () => {
      try {
        for await (const event of socket.events) {
          if (event.type === "handshake:error:protocol" || event.type === "handshake:error:other")
            this.options.report?.handshakeFailed({
              endpoint: event.address,
              code: event.error.code,
            });
        }
      } catch (error) {
        if (!socket.closed) this.options.logger.debug({ err: error }, "proxy port observer ended");
      }
    })();
  }

  /** Closes the socket (linger 0). Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    await this.replacing;
    if (!this.router.closed) this.router.close();
  }
}
