import * as zmq from "zeromq";
import { z85Encode } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";
import { AllowListCheck, type KeyAuthorizer } from "./allow-check.js";

export type { KeyAuthorizer } from "./allow-check.js";

/** The ZAP endpoint libzmq sends authentication requests to (RFC 27). */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
/** The ZAP domain the server's PUB socket announces; requests for other domains are refused. */
export const ZAP_DOMAIN = "osad2";
/** The ROUTER's ZAP domain: admissions to it are told to {@link ZapReport.admitted} (peer addresses). */
export const ZAP_LISTENER_DOMAIN = "osad2.listener";
/** The proxy port's ZAP domain: only keys of proxies/ (osad2 proxies), never a client's. */
export const ZAP_PROXY_DOMAIN = "osad2.proxies";
const ZAP_VERSION = "1.0";

/** One refused handshake. */
export interface ZapRejection {
  /** The peer's IP address as libzmq reports it. */
  readonly address: string;
  /** The client's public key in Z85, when it offered a well-formed one. */
  readonly publicKey?: string;
  readonly reason: "unknown-key" | "wrong-domain" | "wrong-mechanism" | "malformed-request";
}

/** Told about every refused handshake (metrics, events, rate-limited logs). */
export interface ZapReport {
  rejected(rejection: ZapRejection): void;
}

/** Told each peer address let in to the ROUTER (to tell where a connection comes from). */
export interface AdmissionLog {
  admitted(address: string): void;
}

/** One handshake ZAP let in (diagnostics: which key and address a connection came from). */
export interface AdmittedHandshake {
  readonly socket: "publisher" | "listener";
  /** The peer's IP address as libzmq reports it. */
  readonly address: string;
  /** The client's public key in Z85. */
  readonly publicKey: string;
}

/** Told about every admitted handshake on either socket (the diagnostics connection book). */
export interface HandshakeLog {
  admitted(handshake: AdmittedHandshake): void;
}

/** Options of {@link ZapHandler.start}. */
export interface ZapHandlerOptions {
  readonly context: zmq.Context;
  readonly keys: KeyAuthorizer;
  /** The proxies' allow-list (proxies/), asked for {@link ZAP_PROXY_DOMAIN}. Default: no proxy admitted. */
  readonly proxies?: KeyAuthorizer;
  readonly report: ZapReport;
  /** Told about ROUTER admissions. Default: nobody. */
  readonly admissions?: AdmissionLog;
  /** Told about admissions to both sockets with their keys. Default: nobody. */
  readonly handshakes?: HandshakeLog;
  readonly logger: Logger;
  /** Minimum time between the starts of allow-list rescans triggered by unknown keys. Default 500 ms. */
  readonly rescanGapMs?: number;
}

/**
 * The ZAP handler: a ROUTER on {@link ZAP_ENDPOINT} in the server's context. libzmq asks it
 * about every CURVE handshake on a socket with a zapDomain; without it, libzmq would accept
 * any client key. Bind it before the PUB and ROUTER sockets so no handshake slips through.
 */
export class ZapHandler {
  private readonly socket: zmq.Router;
  private readonly loop: Promise<void>;
  private sendChain: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();
  private readonly clientCheck: AllowListCheck;
  private readonly proxyCheck: AllowListCheck | undefined;

  private constructor(
    private readonly options: ZapHandlerOptions,
    socket: zmq.Router,
  ) {
    this.socket = socket;
    this.clientCheck = new AllowListCheck(options.keys, options.logger, options.rescanGapMs);
    this.proxyCheck =
      options.proxies === undefined
        ? undefined
        : new AllowListCheck(options.proxies, options.logger, options.rescanGapMs);
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
        // Requests are decided concurrently (an unknown key may wait for a rescan without
        // holding up known ones); replies go out one at a time, as zeromq.js requires.
        const task = this.decide(frames)
          .then((reply) => {
            if (reply === undefined) return;
            this.sendChain = this.sendChain
              .then(() => this.socket.send(reply))
              .catch(() => undefined);
            return this.sendChain;
          })
          .catch((error: unknown) =>
            this.options.logger.error({ err: error }, "ZAP request failed"),
          );
        this.pending.add(task);
        void task.finally(() => this.pending.delete(task));
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
      this.options.report.rejected({ address: peer, reason: "malformed-request" });
      return answer("500", "malformed ZAP request");
    }
    const domainText = domain.toString();
    const proxyDomain = domainText === ZAP_PROXY_DOMAIN;
    if (!proxyDomain && domainText !== ZAP_DOMAIN && domainText !== ZAP_LISTENER_DOMAIN) {
      this.options.report.rejected({ address: peer, reason: "wrong-domain" });
      return answer("400", "unknown domain");
    }
    if (mechanism.toString() !== "CURVE" || credential === undefined || credential.length !== 32) {
      this.options.report.rejected({ address: peer, reason: "wrong-mechanism" });
      return answer("400", "CURVE required");
    }
    const publicKey = z85Encode(credential);
    // Each port asks its own allow-list: a client key never opens the proxy port, nor a
    // proxy key a client port.
    const check = proxyDomain ? this.proxyCheck : this.clientCheck;
    if (check !== undefined && (await check.allowed(publicKey))) {
      check.keys.admitted?.(publicKey);
      if (proxyDomain) return answer("200", "OK", publicKey);
      const listener = domainText === ZAP_LISTENER_DOMAIN;
      if (listener) this.options.admissions?.admitted(peer);
      this.options.handshakes?.admitted({
        socket: listener ? "listener" : "publisher",
        address: peer,
        publicKey,
      });
      return answer("200", "OK", publicKey);
    }
    this.options.report.rejected({ address: peer, publicKey, reason: "unknown-key" });
    return answer("400", "unknown or revoked key");
  }

  /** Stops answering; pending handshakes then fail. Idempotent. */
  async close(): Promise<void> {
    if (!this.socket.closed) this.socket.close();
    await this.loop;
    await Promise.allSettled([...this.pending]);
    await Promise.allSettled([...this.pending]);
  }
}
