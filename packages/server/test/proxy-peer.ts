// An osad2 proxy's upstream end, built in-test on a real CURVE DEALER: it speaks the proxy
// link (encodeLinkUp/decodeLinkDown) to a server's proxy port, and carries the frames of
// simulated clients that sign exactly as @osad2/client does (v3 hello over the challenge,
// signed pongs). It is the wire peer of the server's link handling, not a fake of it.
import { randomBytes } from "node:crypto";
import * as zmq from "zeromq";
import { generateKeyPair, KeyStore, type KeyPair } from "@osad2/keys";
import {
  decodeConnectionMessage,
  decodeLinkDown,
  encodeConnectionHello,
  encodeHelloRequest,
  encodeLinkUp,
  encodeSignedPong,
  LINK_KEEPALIVE_MS,
  type LinkDownMessage,
  type LinkUpMessage,
} from "@osad2/protocol";
import { sharedKeyFor } from "./core-fixtures.js";

/** Generates a proxy key pair and admits it (proxies/NAME.key of the server's certificates). */
export async function allowProxy(certificates: string, name: string): Promise<KeyPair> {
  const pair = generateKeyPair();
  const store = await KeyStore.open(certificates, {
    allowList: "proxies",
    pollIntervalMs: 0,
    fsWatch: false,
  });
  try {
    await store.add(name, pair.publicKey);
  } finally {
    await store.close();
  }
  return pair;
}

/** Revokes proxies/NAME.key. */
export async function revokeProxy(certificates: string, name: string): Promise<void> {
  const store = await KeyStore.open(certificates, {
    allowList: "proxies",
    pollIntervalMs: 0,
    fsWatch: false,
  });
  try {
    await store.revoke(name);
  } finally {
    await store.close();
  }
}

/** A client behind a {@link LinkPeer}: its connection id, name and keys. */
export interface ProxiedClientOptions {
  readonly conn: string;
  readonly name: string;
  /** The CURVE key pair it connected to the proxy with (the key its hello signs). */
  readonly keyPair: KeyPair;
  /** The key the proxy reports in `open`. Default keyPair.publicKey. */
  readonly reportedKey?: string | null;
  readonly path?: readonly string[];
  readonly address?: string | null;
  /** Signs with this shared key. Default sharedKeyFor(name). */
  readonly sharedKey?: string;
  /** Ask for a challenge right after `open` (as a new client does). Default true. */
  readonly helloRequest?: boolean;
}

/** What a simulated proxied client received and did. */
export class ProxiedClient {
  readonly received: ReturnType<typeof decodeConnectionMessage>[] = [];
  hellos = 0;

  constructor(
    private readonly peer: LinkPeer,
    readonly options: ProxiedClientOptions,
  ) {}

  get checkins(): number {
    return this.received.filter((m) => m.kind === "checkin").length;
  }

  count(kind: string): number {
    return this.received.filter((m) => m.kind === kind).length;
  }

  /** The `open` announcing it (again). */
  async announce(): Promise<void> {
    const o = this.options;
    await this.peer.send({
      kind: "open",
      conn: o.conn,
      path: o.path ?? [this.peer.proxyName],
      address: o.address === undefined ? "127.0.0.1" : o.address,
      publicKey: o.reportedKey === undefined ? o.keyPair.publicKey : o.reportedKey,
    });
  }

  async say(frame: Buffer): Promise<void> {
    await this.peer.send({ kind: "from", conn: this.options.conn, payload: frame });
  }

  /** A `to` for this connection: answers as the client would. */
  async deliver(payload: Buffer): Promise<void> {
    const message = decodeConnectionMessage(payload);
    this.received.push(message);
    const sharedKey = this.options.sharedKey ?? sharedKeyFor(this.options.name);
    if (message.kind === "challenge" && message.version === 3) {
      this.hellos += 1;
      await this.say(
        encodeConnectionHello(
          { clientName: this.options.name, software: "test", lastRun: null },
          message.nonce,
          sharedKey,
          this.options.keyPair.publicKey,
        ),
      );
    } else if (message.kind === "ping") {
      await this.say(encodeSignedPong(this.options.name, message.token, sharedKey));
    }
  }
}

/** Options of {@link LinkPeer.connect}. */
export interface LinkPeerOptions {
  /** The parent's proxy port; several = failover servers (one DEALER to all, immediate). */
  readonly endpoint: string | readonly string[];
  readonly serverPublicKey: string;
  readonly keyPair: KeyPair;
  readonly proxyName: string;
  /** Say `alive` every LINK_KEEPALIVE_MS (default true). */
  readonly keepAlive?: boolean;
  /** Answer `relink` with a new session and re-announced connections (default true). */
  readonly answerRelink?: boolean;
}

/** The proxy side of one link: a DEALER with the proxy's key pair. */
export class LinkPeer {
  readonly received: { at: number; message: LinkDownMessage }[] = [];
  readonly clients = new Map<string, ProxiedClient>();
  session = randomBytes(8).toString("hex");
  private readonly dealer: zmq.Dealer;
  private readonly loops: Promise<void>[] = [];
  private readonly events: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private muted = false;

  private constructor(private readonly options: LinkPeerOptions) {
    this.dealer = new zmq.Dealer({
      curveServerKey: options.serverPublicKey,
      curvePublicKey: options.keyPair.publicKey,
      curveSecretKey: options.keyPair.secretKey,
      linger: 0,
      reconnectInterval: 100,
      immediate: true,
    });
    this.loops.push(this.read(), this.watch());
    for (const endpoint of typeof options.endpoint === "string"
      ? [options.endpoint]
      : options.endpoint)
      this.dealer.connect(endpoint);
    if (options.keepAlive !== false) {
      this.timer = setInterval(
        () => void this.send({ kind: "alive", session: this.session }),
        LINK_KEEPALIVE_MS,
      );
    }
  }

  /** Connects and starts a session (`link`, queued until the handshake: immediate). */
  static connect(options: LinkPeerOptions): LinkPeer {
    const peer = new LinkPeer(options);
    void peer.send({
      kind: "link",
      version: 1,
      proxyName: options.proxyName,
      session: peer.session,
    });
    return peer;
  }

  get proxyName(): string {
    return this.options.proxyName;
  }

  get publicKey(): string {
    return this.options.keyPair.publicKey;
  }

  /** Muted: nothing is sent and everything received is ignored (a cut link). */
  mute(muted: boolean): void {
    this.muted = muted;
  }

  /** Messages of one kind received so far. */
  of<K extends LinkDownMessage["kind"]>(kind: K): Extract<LinkDownMessage, { kind: K }>[] {
    return this.received.flatMap((r) =>
      r.message.kind === kind ? [r.message as Extract<LinkDownMessage, { kind: K }>] : [],
    );
  }

  eventCount(type: string): number {
    return this.events.filter((e) => e === type).length;
  }

  /** A client behind this proxy: announced, and (by default) asking for a challenge. */
  async addClient(options: ProxiedClientOptions): Promise<ProxiedClient> {
    const client = new ProxiedClient(this, options);
    this.clients.set(options.conn, client);
    await client.announce();
    if (options.helloRequest !== false) await client.say(encodeHelloRequest(3));
    return client;
  }

  /** A new session: `link` again and every connection re-announced (as after `relink`). */
  async relink(): Promise<void> {
    this.session = randomBytes(8).toString("hex");
    await this.send({ kind: "link", version: 1, proxyName: this.proxyName, session: this.session });
    for (const client of this.clients.values()) await client.announce();
  }

  send(message: LinkUpMessage): Promise<void> {
    return this.sendFrames(encodeLinkUp(message));
  }

  /** Raw frames (hostile tests). */
  sendFrames(frames: Buffer[]): Promise<void> {
    if (this.muted) return Promise.resolve();
    this.sending = this.sending.then(() => this.dealer.send(frames)).catch(() => undefined);
    return this.sending;
  }

  stopKeepAlive(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async read(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        if (this.muted) continue;
        const message = decodeLinkDown(frames);
        this.received.push({ at: Date.now(), message });
        if (message.kind === "to") await this.clients.get(message.conn)?.deliver(message.payload);
        if (message.kind === "relink" && this.options.answerRelink !== false) await this.relink();
      }
    } catch {
      // socket closed
    }
  }

  private async watch(): Promise<void> {
    try {
      for await (const event of this.dealer.events) this.events.push(event.type);
    } catch {
      // socket closed
    }
  }

  async close(): Promise<void> {
    this.stopKeepAlive();
    this.dealer.close();
    await Promise.allSettled(this.loops);
  }
}
