import * as zmq from "zeromq";
import { z85Encode } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";
import {
  ZapResponder,
  type ZapCurveRequest,
  type ZapDecider,
  type ZapRefusal,
  type ZapVerdict,
} from "@osad2/service-kit/zeromq";
import { AllowListCheck, type KeyAuthorizer } from "./allow-check.js";

export { ZAP_ENDPOINT } from "@osad2/service-kit/zeromq";

export type { KeyAuthorizer } from "./allow-check.js";

/** The ZAP domain the server's PUB socket announces; requests for other domains are refused. */
export const ZAP_DOMAIN = "osad2";
/** The ROUTER's ZAP domain: admissions to it are told to {@link ZapReport.admitted} (peer addresses). */
export const ZAP_LISTENER_DOMAIN = "osad2.listener";
/** The proxy port's ZAP domain: only keys of proxies/ (osad2 proxies), never a client's. */
export const ZAP_PROXY_DOMAIN = "osad2.proxies";

/** One refused handshake. */
export interface ZapRejection {
  /** The peer's IP address as libzmq reports it. */
  readonly address: string;
  /** The client's public key in Z85, when it offered a well-formed one. */
  readonly publicKey?: string;
  readonly reason: "unknown-key" | ZapRefusal;
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
 * The server's ZAP decisions (the handler itself is @osad2/service-kit/zeromq's ZapResponder,
 * a ROUTER on {@link ZAP_ENDPOINT} in the server's context). libzmq asks it about every CURVE
 * handshake on a socket with a zapDomain; without it, libzmq would accept any client key.
 * Start it before the PUB and ROUTER sockets so no handshake slips through.
 */
export class ZapHandler implements ZapDecider {
  readonly domains: ReadonlySet<string> = new Set([
    ZAP_DOMAIN,
    ZAP_LISTENER_DOMAIN,
    ZAP_PROXY_DOMAIN,
  ]);
  private readonly clientCheck: AllowListCheck;
  private readonly proxyCheck: AllowListCheck | undefined;

  private constructor(private readonly options: ZapHandlerOptions) {
    this.clientCheck = new AllowListCheck(options.keys, options.logger, options.rescanGapMs);
    this.proxyCheck =
      options.proxies === undefined
        ? undefined
        : new AllowListCheck(options.proxies, options.logger, options.rescanGapMs);
  }

  /** Binds the ZAP endpoint with this handler deciding; close the responder to stop. */
  static start(options: ZapHandlerOptions): Promise<ZapResponder> {
    const decider = new ZapHandler(options);
    const socket = new zmq.Router({ context: options.context, linger: 0 });
    return ZapResponder.start({ socket, decider, logger: options.logger });
  }

  async decide(request: ZapCurveRequest): Promise<ZapVerdict> {
    const { domain, address } = request;
    const publicKey = z85Encode(request.credential);
    const proxyDomain = domain === ZAP_PROXY_DOMAIN;
    // Each port asks its own allow-list: a client key never opens the proxy port, nor a
    // proxy key a client port.
    const check = proxyDomain ? this.proxyCheck : this.clientCheck;
    if (check !== undefined && (await check.allowed(publicKey))) {
      check.keys.admitted?.(publicKey);
      if (proxyDomain) return { status: "200", text: "OK", userId: publicKey };
      const listener = domain === ZAP_LISTENER_DOMAIN;
      if (listener) this.options.admissions?.admitted(address);
      this.options.handshakes?.admitted({
        socket: listener ? "listener" : "publisher",
        address,
        publicKey,
      });
      return { status: "200", text: "OK", userId: publicKey };
    }
    this.options.report.rejected({ address, publicKey, reason: "unknown-key" });
    return { status: "400", text: "unknown or revoked key" };
  }

  refused(address: string, reason: ZapRefusal): void {
    this.options.report.rejected({ address, reason });
  }
}
