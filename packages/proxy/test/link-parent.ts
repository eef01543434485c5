import * as zmq from "zeromq";
import {
  decodeLinkUp,
  encodeLinkDown,
  type LinkDownMessage,
  type LinkUpMessage,
} from "@osad2/protocol";
import { generateKeyPair, type KeyPair } from "@osad2/keys";

/** One message a proxy sent, with the routing id of its link. */
export interface Heard {
  readonly routingId: Buffer;
  readonly message: LinkUpMessage;
}

/**
 * The parent end of the proxy link, in-test: a CURVE ROUTER speaking proxy-link (the wire
 * peer of a proxy, as the server's proxy_port is). It answers `link` with `linked` and
 * `admit?` from its allow-list, and records everything. No ZAP: any proxy key is let in.
 */
export class LinkParent {
  readonly heard: Heard[] = [];
  readonly allowed = new Set<string>();
  /** Answer `admit?` at all (false: let questions time out). */
  answering = true;
  private readonly loop: Promise<void>;
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly router: zmq.Router,
    readonly keyPair: KeyPair,
    readonly endpoint: string,
  ) {
    this.loop = this.serve();
  }

  static async start(keyPair: KeyPair = generateKeyPair(), port = 0): Promise<LinkParent> {
    const router = new zmq.Router({
      curveServer: true,
      curveSecretKey: keyPair.secretKey,
      curvePublicKey: keyPair.publicKey,
      linger: 0,
      mandatory: true,
    });
    await router.bind(`tcp://127.0.0.1:${port}`);
    return new LinkParent(router, keyPair, router.lastEndpoint ?? "");
  }

  get port(): number {
    return Number(this.endpoint.slice(this.endpoint.lastIndexOf(":") + 1));
  }

  /** Messages of one kind, in order. */
  of<K extends LinkUpMessage["kind"]>(kind: K): Extract<LinkUpMessage, { kind: K }>[] {
    return this.heard
      .map((h) => h.message)
      .filter((m): m is Extract<LinkUpMessage, { kind: K }> => m.kind === kind);
  }

  /** The routing id of the last proxy that sent `link`. */
  lastLink(): Buffer | undefined {
    return [...this.heard].reverse().find((h) => h.message.kind === "link")?.routingId;
  }

  /** Sends one message down the link of `routingId` (default: the last linked proxy). */
  send(message: LinkDownMessage, routingId = this.lastLink()): Promise<void> {
    if (routingId === undefined) throw new Error("no proxy linked yet");
    this.chain = this.chain.then(() => this.router.send([routingId, ...encodeLinkDown(message)]));
    return this.chain;
  }

  /** Sends raw frames (hostile tests). */
  sendRaw(frames: Buffer[], routingId = this.lastLink()): Promise<void> {
    if (routingId === undefined) throw new Error("no proxy linked yet");
    this.chain = this.chain.then(() => this.router.send([routingId, ...frames]));
    return this.chain;
  }

  close(): Promise<void> {
    if (!this.router.closed) this.router.close();
    return this.loop;
  }

  private async serve(): Promise<void> {
    try {
      for await (const [routingId, ...frames] of this.router) {
        if (routingId === undefined) continue;
        const message = decodeLinkUp(frames);
        this.heard.push({ routingId, message });
        if (message.kind === "link") {
          void this.send({ kind: "linked", session: message.session }, routingId);
        } else if (message.kind === "admit?" && this.answering) {
          const allow = this.allowed.has(message.publicKey);
          void this.send({ kind: "admit", query: message.query, allow }, routingId);
        }
      }
    } catch {
      // Closed.
    }
  }
}
