import * as zmq from "zeromq";
import { z85Encode } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";

/** The ZAP endpoint libzmq sends authentication requests to (RFC 27). */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
/** The ZAP domain the server's PUB socket announces; requests for other domains are refused. */
export const ZAP_DOMAIN = "osad2";
/** The ROUTER's ZAP domain: admissions to it are told to {@link ZapReport.admitted} (peer addresses). */
export const ZAP_LISTENER_DOMAIN = "osad2.listener";
const ZAP_VERSION = "1.0";

/** Decides whether a client key may connect: the key store's allow-list. */
export interface KeyAuthorizer {
  /** True when the Z85 public key is in public_keys/ and not revoked. */
  has(publicKeyZ85: string): boolean;
  /** Rescans the allow-list (called when an unknown key knocks, at most every rescanGapMs). */
  reload?(): Promise<void>;
  /** Told each key let in: a re-issued system's new key retires its old one (KeyStore.admitted). */
  admitted?(publicKeyZ85: string): void;
}

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
  /** The next rescan, not started yet; requests arriving now wait for it. */
  private nextScan: Promise<boolean> | undefined;
  private lastScanStart = 0;

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
    if (domainText !== ZAP_DOMAIN && domainText !== ZAP_LISTENER_DOMAIN) {
      this.options.report.rejected({ address: peer, reason: "wrong-domain" });
      return answer("400", "unknown domain");
    }
    if (mechanism.toString() !== "CURVE" || credential === undefined || credential.length !== 32) {
      this.options.report.rejected({ address: peer, reason: "wrong-mechanism" });
      return answer("400", "CURVE required");
    }
    const publicKey = z85Encode(credential);
    if (await this.allowed(publicKey)) {
      this.options.keys.admitted?.(publicKey);
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

  private async allowed(publicKey: string): Promise<boolean> {
    const keys = this.options.keys;
    if (keys.has(publicKey)) return true;
    // A key added a moment ago (osad2-packager, cp) may not be seen by the watcher yet, and a
    // refused libzmq client does not retry: check against a rescan that starts after this
    // request arrived. Rescans start at most every rescanGapMs however many unknown keys knock.
    if (keys.reload === undefined) return false;
    return (await this.rescan()) && keys.has(publicKey);
  }

  private rescan(): Promise<boolean> {
    if (this.nextScan !== undefined) return this.nextScan;
    const gap = this.options.rescanGapMs ?? 500;
    const delay = Math.max(0, this.lastScanStart + gap - Date.now());
    const scan = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(async () => {
      this.nextScan = undefined;
      this.lastScanStart = Date.now();
      try {
        await this.options.keys.reload?.();
        return true;
      } catch (error) {
        this.options.logger.warn({ err: error }, "key store rescan failed");
        return false;
      }
    });
    this.nextScan = scan;
    return scan;
  }

  /** Stops answering; pending handshakes then fail. Idempotent. */
  async close(): Promise<void> {
    if (!this.socket.closed) this.socket.close();
    await this.loop;
    await Promise.allSettled([...this.pending]);
    await Promise.allSettled([...this.pending]);
  }
}
