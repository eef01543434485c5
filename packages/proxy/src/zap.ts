import * as zmq from "zeromq";
import { z85Encode } from "@osad2/keys";
import type { KeyKind } from "@osad2/protocol";
import type { Logger } from "@osad2/service-kit";
import {
  ZapResponder,
  type ZapCurveRequest,
  type ZapDecider,
  type ZapRefusal,
  type ZapReplyTurn,
  type ZapVerdict,
} from "@osad2/service-kit/zeromq";
import type { Attribution, AttributionGate } from "./attribution.js";

export { ZAP_ENDPOINT } from "@osad2/service-kit/zeromq";

/** The client port's ZAP domain: keys are asked about as keyKind client. */
export const CLIENT_ZAP_DOMAIN = "osad2.proxy.clients";
/** The child-proxy port's ZAP domain: keys are asked about as keyKind proxy. */
export const PROXY_ZAP_DOMAIN = "osad2.proxy.proxies";

/** Decides whether a key may connect (the admission cache, asking upstream). */
export interface KeyDecider {
  decide(keyKind: KeyKind, publicKey: string): Promise<boolean>;
}

/** Told about refused handshakes (logs, metrics). */
export interface RefusalReport {
  refused(refusal: {
    readonly address: string;
    readonly keyKind?: KeyKind;
    readonly publicKey?: string;
    readonly reason: "unknown-key" | ZapRefusal;
  }): void;
}

/** Options of {@link ProxyZapHandler.start}. */
export interface ProxyZapHandlerOptions {
  readonly context: zmq.Context;
  readonly decider: KeyDecider;
  /** Admissions to the client port go through it, so each connection learns its key. */
  readonly clientGate: AttributionGate;
  readonly report: RefusalReport;
  readonly logger: Logger;
}

/**
 * The proxy's ZAP decisions (the handler itself is @osad2/service-kit/zeromq's ZapResponder, a
 * ROUTER on {@link ZAP_ENDPOINT} in the proxy's context), started before the client and proxy
 * ports (without it libzmq would let any key in). Every CURVE handshake is decided by the
 * parent's allow-list (through the admission cache).
 */
export class ProxyZapHandler implements ZapDecider {
  readonly domains: ReadonlySet<string> = new Set([CLIENT_ZAP_DOMAIN, PROXY_ZAP_DOMAIN]);

  private constructor(private readonly options: ProxyZapHandlerOptions) {}

  /** Binds the ZAP endpoint with this handler deciding; close the responder to stop. */
  static start(options: ProxyZapHandlerOptions): Promise<ZapResponder> {
    const decider = new ProxyZapHandler(options);
    const socket = new zmq.Router({ context: options.context, linger: 0 });
    return ZapResponder.start({ socket, decider, logger: options.logger });
  }

  async decide(request: ZapCurveRequest): Promise<ZapVerdict> {
    const keyKind: KeyKind = request.domain === CLIENT_ZAP_DOMAIN ? "client" : "proxy";
    const address = request.address;
    const publicKey = z85Encode(request.credential);
    if (!(await this.options.decider.decide(keyKind, publicKey))) {
      this.options.report.refused({ address, keyKind, publicKey, reason: "unknown-key" });
      return { status: "400", text: "unknown or revoked key" };
    }
    const ok = { status: "200", text: "OK", userId: publicKey } as const;
    if (keyKind === "proxy") return ok;
    const who = { publicKey, address: address === "" ? null : address };
    return { ...ok, turn: new GatedReply(this.options.clientGate, who) };
  }

  refused(address: string, reason: ZapRefusal): void {
    this.options.report.refused({ address, reason });
  }
}

/** A client admission's 200 waits its turn at the attribution gate. */
class GatedReply implements ZapReplyTurn {
  constructor(
    private readonly gate: AttributionGate,
    private readonly who: Attribution,
  ) {}

  take(send: () => Promise<void>): Promise<void> {
    return this.gate.admit(this.who, send);
  }
}
