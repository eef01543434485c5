import type * as zmq from "zeromq";
import type { Logger } from "../logger.js";

/** The ZAP endpoint libzmq sends authentication requests to (RFC 27). */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const ZAP_VERSION = "1.0";

/** Why a handshake was refused before its key was looked at. */
export type ZapRefusal = "wrong-domain" | "wrong-mechanism" | "malformed-request";

/** A well-formed CURVE request in one of the decider's domains. */
export interface ZapCurveRequest {
  readonly domain: string;
  /** The peer's IP address as libzmq reports it ("" when it gave none). */
  readonly address: string;
  /** The peer's 32-byte CURVE public key. */
  readonly credential: Buffer;
}

/** Holds a reply until its turn (the proxy lets admissions out one at a time). */
export interface ZapReplyTurn {
  take(send: () => Promise<void>): Promise<void>;
}

/** The answer to one request: status 200 lets the peer in, with `userId` as its identity. */
export interface ZapVerdict {
  readonly status: "200" | "400" | "500";
  readonly text: string;
  readonly userId?: string;
  /** When set, the reply is sent through it; otherwise at once. */
  readonly turn?: ZapReplyTurn;
}

/** What a service decides; the ZAP plumbing around it is {@link ZapResponder}'s. */
export interface ZapDecider {
  /** The ZAP domains it answers; a request for any other is refused unasked. */
  readonly domains: ReadonlySet<string>;
  decide(request: ZapCurveRequest): Promise<ZapVerdict>;
  /** Told about each request refused before {@link decide} (logs, metrics). */
  refused(address: string, reason: ZapRefusal): void;
}

/** Options of {@link ZapResponder.start}. */
export interface ZapResponderOptions {
  /**
   * A new, unbound ROUTER in the context of the sockets it guards (`new zmq.Router({ context,
   * linger: 0 })`), made by the caller: this module never loads zeromq itself, so the service's
   * own zeromq (one native addon per process) is the only one, wherever npm installed it.
   */
  readonly socket: zmq.Router;
  readonly decider: ZapDecider;
  readonly logger: Logger;
}

/**
 * A ZAP handler: a ROUTER on {@link ZAP_ENDPOINT} in the sockets' context. libzmq asks it about
 * every CURVE handshake on a socket with a zapDomain; without it, libzmq would accept any key,
 * so start it before binding those sockets. Requests are decided concurrently (an unknown key
 * may wait for a rescan or a question upstream without holding up the rest); replies go out
 * one at a time, as zeromq.js requires.
 */
export class ZapResponder {
  private readonly loop: Promise<void>;
  private sendChain: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();

  private constructor(
    private readonly options: ZapResponderOptions,
    private readonly socket: zmq.Router,
  ) {
    this.loop = this.serve();
  }

  static async start(options: ZapResponderOptions): Promise<ZapResponder> {
    const { socket } = options;
    await socket.bind(ZAP_ENDPOINT);
    return new ZapResponder(options, socket);
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
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
    const answer = (verdict: ZapVerdict): Buffer[] => [
      routingId,
      delimiter,
      Buffer.from(ZAP_VERSION),
      requestId,
      Buffer.from(verdict.status),
      Buffer.from(verdict.text),
      Buffer.from(verdict.userId ?? ""),
      Buffer.alloc(0),
    ];
    const peer = address?.toString() ?? "";
    const { decider } = this.options;
    if (version?.toString() !== ZAP_VERSION || domain === undefined || mechanism === undefined) {
      decider.refused(peer, "malformed-request");
      return this.send(answer({ status: "500", text: "malformed ZAP request" }));
    }
    const domainText = domain.toString();
    if (!decider.domains.has(domainText)) {
      decider.refused(peer, "wrong-domain");
      return this.send(answer({ status: "400", text: "unknown domain" }));
    }
    if (mechanism.toString() !== "CURVE" || credential === undefined || credential.length !== 32) {
      decider.refused(peer, "wrong-mechanism");
      return this.send(answer({ status: "400", text: "CURVE required" }));
    }
    const verdict = await decider.decide({ domain: domainText, address: peer, credential });
    const reply = answer(verdict);
    if (verdict.turn === undefined) return this.send(reply);
    return verdict.turn.take(() => this.send(reply));
  }

  /** Stops answering; pending handshakes then fail. Idempotent. */
  async close(): Promise<void> {
    if (!this.socket.closed) this.socket.close();
    await this.loop;
    await Promise.allSettled([...this.pending]);
  }
}
