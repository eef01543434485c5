import * as zmq from "zeromq";
import { z85Encode } from "@osad2/keys";
import type { KeyKind } from "@osad2/protocol";
import type { Logger } from "@osad2/service-kit";
import type { AttributionGate } from "./attribution.js";

/** The ZAP endpoint libzmq sends authentication requests to (RFC 27). */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
/** The client port's ZAP domain: keys are asked about as keyKind client. */
export const CLIENT_ZAP_DOMAIN = "osad2.proxy.clients";
/** The child-proxy port's ZAP domain: keys are asked about as keyKind proxy. */
export const PROXY_ZAP_DOMAIN = "osad2.proxy.proxies";
const ZAP_VERSION = "1.0";

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
    readonly reason: "unknown-key" | "wrong-domain" | "wrong-mechanism" | "malformed-request";
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
 * The proxy's ZAP handler: a ROUTER on {@link ZAP_ENDPOINT} in the proxy's context, bound
 * before the client and proxy ports (without it libzmq would let any key in). Every CURVE
 * handshake is decided by the parent's allow-list (through the admission cache).
 */
export class ProxyZapHandler {
  private readonly loop: Promise<void>;
  private sendChain: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();

  private constructor(
    private readonly options: ProxyZapHandlerOptions,
    private readonly socket: zmq.Router,
  ) {
    this.loop = this.serve();
  }

  static async start(options: ProxyZapHandlerOptions): Promise<ProxyZapHandler> {
    const socket = new zmq.Router({ context: options.context, linger: 0 });
    await socket.bind(ZAP_ENDPOINT);
    return new ProxyZapHandler(options, socket);
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        // Decided concurrently (a question upstream takes a round trip); replies go one at a time.
        const task = this.handle(frames).catch((error: unknown) =>
          this.options.logger.error({ err: error }, "ZAP request failed"),
        );
        this.pending.add(task);
        void task.finally(() => this.pending.delete(task));
      }
    } catch (error) {
      if (!this.socket.closed) this.options.logger.error({ err: error }, "ZAP handler stopped");
    }
  }

  private send(reply: Buffer[]): Promise<void> {
    this.sendChain = this.sendChain
      .then(() => (this.socket.closed ? undefined : this.socket.send(reply)))
      .catch(() => undefined);
    return this.sendChain;
  }

  private async handle(frames: Buffer[]): Promise<void> {
    // [routing id, empty, version, request id, domain, address, identity, mechanism, credentials...]
    const [routingId, delimiter, version, requestId, domain, address, , mechanism, credential] =
      frames;
    if (routingId === undefined || delimiter === undefined || requestId === undefined) return;
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
    const { report } = this.options;
    if (version?.toString() !== ZAP_VERSION || domain === undefined || mechanism === undefined) {
      report.refused({ address: peer, reason: "malformed-request" });
      return this.send(answer("500", "malformed ZAP request"));
    }
    const domainText = domain.toString();
    const keyKind: KeyKind | undefined =
      domainText === CLIENT_ZAP_DOMAIN
        ? "client"
        : domainText === PROXY_ZAP_DOMAIN
          ? "proxy"
          : undefined;
    if (keyKind === undefined) {
      report.refused({ address: peer, reason: "wrong-domain" });
      return this.send(answer("400", "unknown domain"));
    }
    if (mechanism.toString() !== "CURVE" || credential === undefined || credential.length !== 32) {
      report.refused({ address: peer, reason: "wrong-mechanism" });
      return this.send(answer("400", "CURVE required"));
    }
    const publicKey = z85Encode(credential);
    if (!(await this.options.decider.decide(keyKind, publicKey))) {
      report.refused({ address: peer, keyKind, publicKey, reason: "unknown-key" });
      return this.send(answer("400", "unknown or revoked key"));
    }
    const ok = answer("200", "OK", publicKey);
    if (keyKind === "proxy") return this.send(ok);
    return this.options.clientGate.admit({ publicKey, address: peer === "" ? null : peer }, () =>
      this.send(ok),
    );
  }

  /** Stops answering; pending handshakes then fail. Idempotent. */
  async close(): Promise<void> {
    if (!this.socket.closed) this.socket.close();
    await this.loop;
    await Promise.allSettled([...this.pending]);
  }
}
