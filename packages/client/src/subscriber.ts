import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { KeyPair } from "@osad2/keys";
import {
  type LastRun,
  ProtocolError,
  SOCKET_DEFAULTS,
  clientLivenessOptions,
  clientSubscriptions,
  type PublisherMessage,
  decodeConnectionMessage,
  decodePublisherMessage,
  encodeConnectionHello,
  encodeGoodbye,
  encodeHello,
  encodeHelloRequest,
  encodePong,
  encodeSignedHello,
  encodeSignedPong,
  isCheckinFor,
  reconnectIntervalWithJitter,
} from "@osad2/protocol";
import { type Logger, backoffDelay, describeError, silentLogger } from "@osad2/service-kit";
import * as zmq from "zeromq";
import type { ServerEndpoints } from "./registration.js";
import { CLIENT_VERSION } from "./version.js";

export interface SubscriberOptions {
  /** The name from register_osad: topic `system:<name>`, signed into every message. */
  readonly clientName: string;
  /**
   * The `shared-key` from the same register_osad reply: signs hello, pongs and goodbye.
   * Without it only the seed's unsigned format is spoken (routing id = name).
   */
  readonly sharedKey?: string;
  /**
   * How long to wait for the server's `challenge` after `hello-request`; with none by then
   * the server is taken for a seed-format server and spoken to in its format. Default
   * {@link DEFAULT_CHALLENGE_TIMEOUT_MS}.
   */
  readonly challengeTimeoutMs?: number;
  /** `tcp://host:port` of the server's PUB socket. */
  readonly publisherEndpoint: string;
  /** `tcp://host:port` of the server's ROUTER socket. */
  readonly listenerEndpoint: string;
  /**
   * Every server to connect to (failover), the one above first. Wire v3 connects the one DEALER
   * to each with ZMQ_IMMEDIATE, so only a server that is bound (the active one) carries
   * messages; the seed format and wire v2 have no failover and use one server only. Default:
   * just the one above.
   */
  readonly servers?: readonly ServerEndpoints[];
  /** The server's CURVE public key (Z85). */
  readonly serverPublicKey: string;
  /** This client's CURVE key pair (Z85). */
  readonly clientKeyPair: KeyPair;
  /** First reconnect interval (ms). Default: {@link reconnectIntervalWithJitter}() — 1-2 s. */
  readonly reconnectIntervalMs?: number;
  /**
   * Reconnect back-off ceiling (ms). Default 5 s (SOCKET_DEFAULTS): a long outage does not
   * stretch recovery. Also the ceiling for handshake-failure retries (plus
   * {@link AUTH_RETRY_JITTER}) when given; by default those back off to {@link AUTH_RETRY_MAX_MS}.
   */
  readonly reconnectMaxIntervalMs?: number;
  /** The last rhn_check run for the hello. Default: none. */
  readonly lastRun?: () => LastRun | null;
  /** Default: a silent logger. */
  readonly logger?: Logger;
}

/**
 * Default of {@link SubscriberOptions.challengeTimeoutMs}. Short, because a wrong guess
 * corrects itself: an osad2 server answers the seed format with `refused unsigned`, and the
 * wait then doubles (up to {@link MAX_CHALLENGE_TIMEOUT_MS}) so a slow server is not reconnected
 * to in a loop.
 */
export const DEFAULT_CHALLENGE_TIMEOUT_MS = 3_000;
export const MAX_CHALLENGE_TIMEOUT_MS = 60_000;

/** After `refused busy` the hello is tried again after this … */
export const BUSY_RETRY_MS = 2_000;
/** … plus up to this share of it at random. */
export const BUSY_RETRY_JITTER = 2;

/**
 * How the client talks to the server: `connection` (wire v3: one DEALER carries everything),
 * `signed` (v2: SUB + DEALER, signed messages) or `seed` (the seed's unsigned format).
 * A client with a shared key starts with `connection`; a server that does not answer
 * `hello-request 3` (a v2 server drops it) is spoken to in v2, one that answers no
 * `hello-request 2` either in the seed's format.
 */
export type WireMode = "connection" | "signed" | "seed";

/**
 * Up to this share is added at random to each retry after a handshake failure (also at the
 * ceiling), so clients refused together do not come back in step.
 */
export const AUTH_RETRY_JITTER = 0.25;
/**
 * Handshake-failure retries back off to this by default: a refused key stays refused until an
 * operator acts, so thousands of such clients need not ask ZAP every few seconds.
 */
export const AUTH_RETRY_MAX_MS = 60_000;

/** Handshake events that mean "this key pair and this server do not go together". */
export type HandshakeFailureEvent =
  "handshake:error:auth" | "handshake:error:protocol" | "handshake:error:other";

export interface AuthFailure {
  readonly endpoint: string;
  readonly event: HandshakeFailureEvent;
  /** libzmq's description, e.g. "Authentication failure" or "EPIPE". */
  readonly detail: string;
  /** Consecutive failures so far. */
  readonly failures: number;
  /** When the sockets are tried again. */
  readonly retryInMs: number;
}

/** Events of a {@link Subscriber}; never "error". */
export type SubscriberEvents = {
  /** A `system:<own name> checkin` arrived. */
  checkin: [{ readonly clientName: string; readonly at: number }];
  /** A ping arrived (and was answered). */
  ping: [{ readonly token: string; readonly at: number }];
  /** Both sockets completed their CURVE handshake (again); a hello was sent. */
  connected: [{ readonly publisherEndpoint: string; readonly listenerEndpoint: string }];
  /** A connected socket lost its connection; libzmq reconnects with back-off. */
  disconnected: [{ readonly endpoint: string }];
  /** The server refused the handshake; sockets are closed and retried after retryInMs. */
  "auth-failure": [AuthFailure];
  /**
   * The server does not know this name or its key (re-registered elsewhere, a replayed
   * systemid): register again. Once per Subscriber.
   */
  "unknown-client": [{ readonly clientName: string }];
  /** The server accepted nothing signed from us yet and we switched wire format. */
  "wire-mode": [{ readonly mode: WireMode }];
};

type SocketName = "sub" | "dealer";

/**
 * The SUB + DEALER pair of one registration, as CURVE clients. Answers pings, reports own
 * checkins, says hello on every (re)connection, and backs off on handshake failures.
 */
export class Subscriber extends EventEmitter<SubscriberEvents> {
  private readonly options: SubscriberOptions;
  private readonly log: Logger;
  private readonly reconnectInterval: number;
  private readonly reconnectMaxInterval: number;
  private readonly authRetryMax: number;
  private sub: zmq.Subscriber | undefined;
  private dealer: zmq.Dealer | undefined;
  private up: Record<SocketName, boolean> = { sub: false, dealer: false };
  /** The DEALER's connections whose CURVE handshake is done, by address. */
  private readonly live = new Set<string>();
  /** Every server; `fallback` is the one the seed format and wire v2 talk to. */
  private readonly servers: readonly ServerEndpoints[];
  private fallback: ServerEndpoints;
  private connected = false;
  private sending: Promise<void> = Promise.resolve();
  private receiving: Promise<void> = Promise.resolve();
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;
  private mode: WireMode;
  private challengeTimer: NodeJS.Timeout | undefined;
  /** The last ping token seen: the nonce of a goodbye. */
  private lastToken: string | undefined;
  private toldUnknown = false;
  /** The server has answered in the v2 format at least once (a challenge). */
  private heardV2 = false;
  /** The server has answered `hello-request 3` on this connection. */
  private heardV3 = false;
  /** The server left `hello-request 3` unanswered: it speaks v2 (or the seed format). */
  private noV3 = false;
  /** The current wait for a challenge (doubles after each wrong guess of "seed server"). */
  private challengeWaitMs: number;

  constructor(options: SubscriberOptions) {
    super();
    this.options = options;
    this.log = (options.logger ?? silentLogger()).child({ clientName: options.clientName });
    this.reconnectInterval = options.reconnectIntervalMs ?? reconnectIntervalWithJitter();
    this.reconnectMaxInterval =
      options.reconnectMaxIntervalMs ?? SOCKET_DEFAULTS.reconnectMaxInterval;
    this.authRetryMax = options.reconnectMaxIntervalMs ?? AUTH_RETRY_MAX_MS;
    this.mode = options.sharedKey === undefined ? "seed" : "connection";
    this.challengeWaitMs = options.challengeTimeoutMs ?? DEFAULT_CHALLENGE_TIMEOUT_MS;
    const first = {
      publisherEndpoint: options.publisherEndpoint,
      listenerEndpoint: options.listenerEndpoint,
    };
    this.servers =
      options.servers !== undefined && options.servers.length > 0 ? options.servers : [first];
    this.fallback = this.servers[0] as ServerEndpoints;
  }

  /** The wire format spoken now. */
  get wireMode(): WireMode {
    return this.mode;
  }

  /** True while both sockets are connected and authenticated. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Connects both sockets (returns at once; connection happens in the background). */
  start(): void {
    if (this.running) return;
    if (!zmq.capability.curve) {
      throw new Error(
        "this zeromq build has no CURVE support; reinstall zeromq (npm rebuild zeromq)",
      );
    }
    this.running = true;
    this.open();
  }

  /** Says a signed goodbye (so the server takes us offline at once), then closes both sockets; idempotent. */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const { sharedKey, clientName } = this.options;
    const dealer = this.dealer;
    if (wasRunning && this.connected && this.mode !== "seed" && sharedKey !== undefined) {
      const token = this.lastToken;
      if (token !== undefined && dealer !== undefined) {
        this.send(encodeGoodbye(clientName, token, sharedKey), "goodbye");
        await this.sending;
        // Give libzmq a moment to put it on the wire (linger is 0 otherwise).
        if (!dealer.closed) dealer.linger = 500;
      }
    }
    this.close();
    await this.receiving;
  }

  private socketOptions(): ReturnType<typeof clientLivenessOptions> & {
    linger: number;
    reconnectInterval: number;
    reconnectMaxInterval: number;
    maxMessageSize: number;
    curveServerKey: string;
    curvePublicKey: string;
    curveSecretKey: string;
    immediate: boolean;
  } {
    return {
      linger: SOCKET_DEFAULTS.linger,
      // Kernel keepalive, not ZMTP heartbeats: the server's kernel answers it, its ZMQ I/O thread does not.
      ...clientLivenessOptions(),
      reconnectInterval: this.reconnectInterval,
      reconnectMaxInterval: this.reconnectMaxInterval,
      maxMessageSize: SOCKET_DEFAULTS.maxMessageSize,
      curveServerKey: this.options.serverPublicKey,
      curvePublicKey: this.options.clientKeyPair.publicKey,
      curveSecretKey: this.options.clientKeyPair.secretKey,
      // Queue messages only on connections that completed their handshake: with several
      // servers listed, a standby (not bound) never gets a hello or pong meant for the active.
      immediate: true,
    };
  }

  private open(): void {
    const { clientName } = this.options;
    const v3 = this.mode === "connection";
    // v3: one connection, no SUB (one descriptor per client on the server).
    const sub = v3
      ? undefined
      : new zmq.Subscriber({
          ...this.socketOptions(),
          receiveHighWaterMark: SOCKET_DEFAULTS.receiveHighWaterMark,
        });
    const dealer = new zmq.Dealer({
      ...this.socketOptions(),
      // Signed: a random routing id of our own, never taken as identity, which no other
      // peer can guess (and so cannot displace). Seed servers know clients by routing id.
      routingId: this.mode === "seed" ? clientName : `~${randomBytes(16).toString("base64url")}`,
      sendHighWaterMark: SOCKET_DEFAULTS.sendHighWaterMark,
      // Never block: a pong that cannot be queued is stale by the next ping anyway.
      sendTimeout: 0,
    });
    this.sub = sub;
    this.dealer = dealer;
    this.up = { sub: sub === undefined, dealer: false };
    this.live.clear();
    const listeners = v3
      ? this.servers.map((server) => server.listenerEndpoint)
      : [this.fallback.listenerEndpoint];
    this.watch(dealer, "dealer", listeners.join(","));
    if (sub !== undefined) {
      this.watch(sub, "sub", this.fallback.publisherEndpoint);
      for (const topic of clientSubscriptions(clientName)) sub.subscribe(topic);
      sub.connect(this.fallback.publisherEndpoint);
    }
    for (const endpoint of listeners) dealer.connect(endpoint);
    if (!v3 && this.servers.length > 1) {
      this.log.warn(
        { ...this.fallback, listed: this.servers.length },
        `wire ${this.mode === "seed" ? "seed format" : "v2"} has no failover: talking to ${this.fallback.listenerEndpoint} only, not to the other listed servers`,
      );
    }
    this.log.info(
      sub === undefined
        ? { listenerEndpoints: listeners }
        : { publisherEndpoint: this.fallback.publisherEndpoint, listenerEndpoint: listeners[0] },
      "connecting to the server",
    );
    this.receiving = Promise.all([
      sub === undefined ? Promise.resolve() : this.receive(sub),
      this.receiveReplies(dealer),
    ]).then(() => undefined);
  }

  /** Closes both sockets; `quiet`: a switch of wire format, not a disconnection (no event). */
  private close(quiet = false): void {
    clearTimeout(this.challengeTimer);
    this.challengeTimer = undefined;
    const sockets = [this.sub, this.dealer];
    this.sub = undefined;
    this.dealer = undefined;
    for (const socket of sockets) if (socket && !socket.closed) socket.close();
    if (this.connected && !quiet) {
      this.connected = false;
      this.emit("disconnected", { endpoint: this.connectedEndpoint() });
    }
  }

  private watch(socket: zmq.Subscriber | zmq.Dealer, name: SocketName, endpoints: string): void {
    const events = socket.events;
    events.on("handshake", ({ address }) => {
      if (socket.closed) return;
      this.failures = 0;
      if (name === "dealer") this.live.add(address);
      this.up[name] = true;
      this.log.debug({ endpoint: address }, "CURVE handshake done");
      // Every new connection (a reconnect, or another server that became active) gets a hello.
      if (this.up.sub && this.up.dealer) this.onBothUp(address);
    });
    events.on("disconnect", ({ address }) => {
      if (socket.closed || !this.up[name]) return;
      if (name === "dealer" && (!this.live.delete(address) || this.live.size > 0)) return;
      this.up[name] = false;
      if (this.connected) {
        this.connected = false;
        this.log.warn(
          { endpoint: address },
          "disconnected from the server; reconnecting with back-off",
        );
        this.emit("disconnected", { endpoint: address });
      }
      // Failover: the other servers' endpoints have been refused (not bound) for a while, so
      // libzmq's back-off for them is at its ceiling (5 s). A fresh DEALER tries every server
      // again at once and then every reconnect interval (1-2 s), so the new active server is
      // found within about that of binding.
      if (
        this.running &&
        name === "dealer" &&
        this.mode === "connection" &&
        this.servers.length > 1
      ) {
        this.log.info(
          { servers: this.servers.length },
          "reconnecting to every listed server afresh (failover)",
        );
        this.close(true);
        this.open();
      }
    });
    const failed =
      (event: HandshakeFailureEvent) =>
      (data: { error?: Error }): void => {
        if (!socket.closed) this.onHandshakeFailure(endpoints, event, data.error);
      };
    events.on("handshake:error:auth", failed("handshake:error:auth"));
    events.on("handshake:error:protocol", failed("handshake:error:protocol"));
    events.on("handshake:error:other", failed("handshake:error:other"));
  }

  /** The DEALER connection traffic goes over (with ZMQ_IMMEDIATE: the live one). */
  private connectedEndpoint(): string {
    return [...this.live][0] ?? this.fallback.listenerEndpoint;
  }

  private onBothUp(address: string): void {
    const { clientName } = this.options;
    // Both directions work now: tell the server we are (back) here, so it marks us online
    // and re-sends what is due at once instead of waiting for the next ping. Signed: ask for
    // the challenge the hello must sign; the hello follows when it comes.
    if (this.mode !== "seed") {
      // A new connection may be to another server (a restart, a failover, a downgrade):
      // whether it speaks v3 is learnt afresh.
      this.heardV3 = false;
      this.requestChallenge();
    } else {
      this.send(
        encodeHello({
          clientName,
          software: CLIENT_VERSION,
          lastRun: this.options.lastRun?.() ?? null,
        }),
        "hello",
      );
    }
    const listenerEndpoint = this.mode === "connection" ? address : this.fallback.listenerEndpoint;
    const publisherEndpoint = this.fallback.publisherEndpoint;
    if (!this.connected) {
      this.connected = true;
      this.log.info({ publisherEndpoint, listenerEndpoint }, "connected to the server");
      this.emit("connected", { publisherEndpoint, listenerEndpoint });
    } else if (this.mode === "connection") {
      this.log.info({ listenerEndpoint }, "connected to another server");
    }
  }

  private requestChallenge(): void {
    const v3 = this.mode === "connection";
    this.send(encodeHelloRequest(v3 ? 3 : 2), "hello-request");
    clearTimeout(this.challengeTimer);
    const timeoutMs = this.challengeWaitMs;
    this.challengeTimer = setTimeout(() => {
      this.challengeTimer = undefined;
      if (v3) {
        // Lost on the way (a re-bind): ask again. Otherwise a v2 server, which drops the
        // unknown version without a word: speak v2 to it (SUB + DEALER).
        if (this.heardV3) {
          this.requestChallenge();
          return;
        }
        this.log.info(
          { timeoutMs },
          "the server did not answer hello-request 3: speaking wire v2 (SUB + DEALER) to it",
        );
        this.noV3 = true;
        this.switchMode("signed");
        return;
      }
      // A server that has sent a challenge before speaks v2: this one was lost (a re-bind,
      // a reconnect in between); ask again rather than take it for a seed server.
      if (this.heardV2) {
        this.requestChallenge();
        return;
      }
      this.log.warn(
        { timeoutMs },
        "the server sent no challenge: taking it for a seed-format server and speaking its unsigned format",
      );
      this.switchMode("seed");
    }, timeoutMs);
  }

  /** Re-opens the sockets in the other wire format (the DEALER's routing id depends on it). */
  private switchMode(mode: WireMode): void {
    if (!this.running || this.mode === mode) return;
    if (mode !== "seed" && this.options.sharedKey === undefined) return;
    this.mode = mode;
    // Seed format and v2 talk to one server: the one that was live (it answered, or not, as
    // a server of that wire would), else the first listed.
    const live = this.connectedEndpoint();
    this.fallback = this.servers.find((s) => s.listenerEndpoint === live) ?? this.fallback;
    this.emit("wire-mode", { mode });
    this.close(true);
    this.open();
  }

  private async receiveReplies(dealer: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of dealer) this.onReply(frames);
    } catch (error) {
      if (!dealer.closed)
        this.log.error({ error: describeError(error) }, "receiving replies stopped");
    }
  }

  private onReply(frames: Buffer[]): void {
    let reply;
    try {
      reply = decodeConnectionMessage(frames);
    } catch (error) {
      this.log.warn(
        { reason: error instanceof ProtocolError ? error.reason : "unknown" },
        `ignoring a server reply this client does not understand: ${describeError(error)}`,
      );
      return;
    }
    const { clientName, sharedKey } = this.options;
    if (reply.kind === "ping" || reply.kind === "checkin") {
      // Only a v3 server sends these over the DEALER (to the connection its hello bound).
      this.onPublished(reply);
    } else if (reply.kind === "challenge") {
      if (reply.version === 3) this.heardV3 = true;
      else this.heardV2 = true;
      clearTimeout(this.challengeTimer);
      this.challengeTimer = undefined;
      if (this.mode === "seed" || sharedKey === undefined) return;
      const hello = {
        clientName,
        software: CLIENT_VERSION,
        lastRun: this.options.lastRun?.() ?? null,
      };
      if (this.mode === "connection" && reply.version === 3) {
        const key = this.options.clientKeyPair.publicKey;
        this.send(encodeConnectionHello(hello, reply.nonce, sharedKey, key), "hello");
      } else if (this.mode === "signed" && reply.version === undefined) {
        this.send(encodeSignedHello(hello, reply.nonce, sharedKey), "hello");
      }
    } else if (reply.kind === "unknown-client") {
      if (reply.clientName !== clientName || this.toldUnknown) return;
      this.toldUnknown = true;
      this.log.warn(
        "the server does not know this client name or its key (registered again elsewhere?); registering again",
      );
      this.emit("unknown-client", { clientName });
    } else if (reply.reason === "unsigned") {
      this.log.info("the server wants signed messages; switching to the signed format");
      this.challengeWaitMs = Math.min(2 * this.challengeWaitMs, MAX_CHALLENGE_TIMEOUT_MS);
      this.switchMode(this.noV3 ? "signed" : "connection");
    } else if (reply.reason === "busy") {
      if (this.mode === "seed") return;
      // The server could not check the hello now: ask again later, clients refused together
      // spread out (a fleet re-asking at once is what made the server busy).
      clearTimeout(this.challengeTimer);
      const delayMs = BUSY_RETRY_MS * (1 + Math.random() * BUSY_RETRY_JITTER);
      this.log.info({ retryInMs: Math.round(delayMs) }, "the server is busy; asking again later");
      this.challengeTimer = setTimeout(() => {
        this.challengeTimer = undefined;
        this.requestChallenge();
      }, delayMs);
    } else if (this.mode !== "seed") {
      this.requestChallenge();
    }
  }

  private onHandshakeFailure(endpoint: string, event: HandshakeFailureEvent, error?: Error): void {
    if (!this.running || this.retryTimer !== undefined) return;
    this.failures += 1;
    // libzmq would retry an auth failure never, and any other handshake failure every
    // reconnect interval without back-off; we close and retry with exponential back-off.
    const retryInMs = backoffDelay(this.failures, {
      minMs: this.reconnectInterval,
      maxMs: this.authRetryMax,
      jitter: AUTH_RETRY_JITTER,
    });
    const detail = (error as (Error & { code?: string }) | undefined)?.code ?? error?.message ?? "";
    const failure: AuthFailure = { endpoint, event, detail, failures: this.failures, retryInMs };
    const advice =
      event === "handshake:error:auth"
        ? "the server refused this client's key: check that client_secret_key belongs to this system and that its public key is in the server's public_keys and not revoked"
        : "the CURVE handshake failed: server_public_key probably is not this server's key";
    this.log.error(
      { ...failure },
      `authentication failure with ${endpoint} (${event}${detail ? `: ${detail}` : ""}) — ${advice}; retrying in ${Math.round(retryInMs / 1000)} s`,
    );
    this.close();
    this.emit("auth-failure", failure);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running) this.open();
    }, retryInMs);
  }

  private async receive(sub: zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of sub) this.onMessage(frames);
    } catch (error) {
      if (!sub.closed) this.log.error({ error: describeError(error) }, "receiving stopped");
    }
  }

  private onMessage(frames: Buffer[]): void {
    let message;
    try {
      message = decodePublisherMessage(frames);
    } catch (error) {
      const preview = Buffer.concat(frames).subarray(0, 80).toString("utf8");
      this.log.warn(
        { reason: error instanceof ProtocolError ? error.reason : "unknown", preview },
        `ignoring a message this client does not understand: ${describeError(error)}`,
      );
      return;
    }
    this.onPublished(message);
  }

  /** A ping or a checkin: from the SUB (v2, seed) or over the one connection (v3). */
  private onPublished(message: PublisherMessage): void {
    const at = Date.now();
    if (message.kind === "ping") {
      this.log.debug({ token: message.token }, "ping");
      this.lastToken = message.token;
      const { sharedKey, clientName } = this.options;
      this.send(
        this.mode !== "seed" && sharedKey !== undefined
          ? encodeSignedPong(clientName, message.token, sharedKey)
          : encodePong(message.token),
        "pong",
      );
      this.emit("ping", { token: message.token, at });
    } else if (isCheckinFor(message, this.options.clientName)) {
      this.log.info("checkin requested by the server");
      this.emit("checkin", { clientName: message.clientName, at });
    } else {
      this.log.debug({ topic: message.clientName }, "ignoring a checkin for another client");
    }
  }

  /** Sends one frame over the DEALER; zeromq allows one send at a time, so they queue here. */
  private send(frame: Buffer, what: string): void {
    const dealer = this.dealer;
    if (dealer === undefined) return;
    this.sending = this.sending.then(async () => {
      if (dealer.closed) return;
      try {
        await dealer.send(frame);
      } catch (error) {
        this.log.warn({ error: describeError(error) }, `could not send ${what}; dropped`);
      }
    });
  }
}
