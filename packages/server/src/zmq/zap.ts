import * as zmq from "zeromq";
import { z85Encode } from "@osad2/keys";
import type { Logger } from "../logger.js";

/** The ZAP endpoint libzmq sends authentication requests to (RFC 27). */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
/** The ZAP domain the server's sockets announce; requests for other domains are refused. */
export const ZAP_DOMAIN = "osad2";
const ZAP_VERSION = "1.0";

/** Decides whether a client key may connect: the key store's allow-list. */
export interface KeyAuthorizer {
  /** True when the Z85 public key is in public_keys/ and not revoked. */
  has(publicKeyZ85: string): boolean;
  /** Rescans the allow-list (called at most once a second, when an unknown key knocks). */
  reload?(): Promise<void>;
}

/** One refused handshake. */
export interface ZapRejection {
  /** The peer's IP address as libzmq reports it. */
  readonly address: string;
  /** The client's public key in Z85, when it offered a well-formed one. */
  readonly publicKey?: string;
  readonly reason: "unknown-key" | "wrong-domain" | "wrong-mechanism" | "malformed-request";
}

/** Options of {@link ZapHandler.start}. */
export interface ZapHandlerOptions {
  readonly context: zmq.Context;
  readonly keys: KeyAuthorizer;
  readonly onReject: (rejection: ZapRejection) => void;
  readonly logger: Logger;
  /** Minimum time between allow-list rescans triggered by unknown keys. Default 1000 ms. */
  readonly reloadIntervalMs?: number;
}

/**
 * The ZAP handler: a ROUTER on {@link ZAP_ENDPOINT} in the server's context. libzmq asks it
 * about every CURVE handshake on a socket with a zapDomain; without it, libzmq would accept
 * any client key. Bind it before the PUB and ROUTER sockets so no handshake slips through.
 */
export class ZapHandler {
  private readonly socket: zmq.Router;
  private readonly loop: Promise<void>;
  private lastReload = 0;

  private constructor(
    private readonly options: ZapHandlerOptions,
    socket: zmq.Router,
  ) {
    this.socket = socket;
    this.loop = this.serve();
  }

  static async start(options: ZapHandlerOptions): Promise<ZapHandler> {
    const socket = new zmq.Router({ context: options.context, linger: 0 });
    await socket.bind(ZAP_ENDPOINT);
    return new ZapHandler(options, socket);
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        // One at a time: a reply must go out before the next receive anyway (zeromq.js
        // allows one pending send), and each decision is a Set lookup.
        const reply = await this.decide(frames);
        if (reply !== undefined) await this.socket.send(reply);
      }
    } catch (error) {
      if (!this.socket.closed) this.options.logger.error({ err: error }, "ZAP handler stopped");
    }
  }

  private async decide(frames: Buffer[]): Promise<Buffer[] | undefined> {
    // [routing id, empty, version, request id, domain, address, identity, mechanism, credentials...]
    const [routingId, delimiter, version, requestId, domain, address, , mechanism, credential] =
      frames;
    if (routingId === undefined || delimiter === undefined || requestId === undefined)
      return undefined;
    const answer = (status: "200" | "400" | "500", text: string, userId = ""): Buffer[] => [
      routingId,
      delimiter,
      Buffer.from(ZAP_VERSION),
      requestId,
      Buffer.from(status),
      Buffer.from(text),
      Buffer.from(userId),
      Buffer.alloc(0),
    ];
    const peer = address?.toString() ?? "";
    if (version?.toString() !== ZAP_VERSION || domain === undefined || mechanism === undefined) {
      this.options.onReject({ address: peer, reason: "malformed-request" });
      return answer("500", "malformed ZAP request");
    }
    if (domain.toString() !== ZAP_DOMAIN) {
      this.options.onReject({ address: peer, reason: "wrong-domain" });
      return answer("400", "unknown domain");
    }
    if (mechanism.toString() !== "CURVE" || credential === undefined || credential.length !== 32) {
      this.options.onReject({ address: peer, reason: "wrong-mechanism" });
      return answer("400", "CURVE required");
    }
    const publicKey = z85Encode(credential);
    if (await this.allowed(publicKey)) return answer("200", "OK", publicKey);
    this.options.onReject({ address: peer, publicKey, reason: "unknown-key" });
    return answer("400", "unknown or revoked key");
  }

  private async allowed(publicKey: string): Promise<boolean> {
    const keys = this.options.keys;
    if (keys.has(publicKey)) return true;
    // A key added a moment ago (osad2-packager, cp) may not be seen by the watcher yet:
    // rescan once, but never more than once a second however many unknown keys knock.
    const now = Date.now();
    if (
      keys.reload === undefined ||
      now - this.lastReload < (this.options.reloadIntervalMs ?? 1000)
    )
      return false;
    this.lastReload = now;
    try {
      await keys.reload();
    } catch (error) {
      this.options.logger.warn({ err: error }, "key store rescan failed");
      return false;
    }
    return keys.has(publicKey);
  }

  /** Stops answering; pending handshakes then fail. Idempotent. */
  async close(): Promise<void> {
    if (!this.socket.closed) this.socket.close();
    await this.loop;
  }
}
