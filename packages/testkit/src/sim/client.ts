import * as zmq from "zeromq";
import { randomBytes } from "node:crypto";
import { AUTH_RETRY_JITTER, AUTH_RETRY_MAX_MS } from "@osad2/client";
import { backoffDelay } from "@osad2/service-kit";
import {
  clientLivenessOptions,
  clientSubscriptions,
  decodeConnectionMessage,
  decodePublisherMessage,
  encodeConnectionHello,
  encodeHelloRequest,
  encodeSignedHello,
  encodeSignedPong,
  reconnectIntervalWithJitter,
  SOCKET_DEFAULTS,
  type PublisherMessage,
} from "@osad2/protocol";
import type { SimEvent } from "./events.js";
import { SingleFlightRunner, type RunResult } from "./runner.js";
import type { SimIdentity } from "./spec.js";

/** Where and how a {@link SimClient} connects; shared by all clients of a pool. */
export interface SimClientSetup {
  readonly context: zmq.Context;
  readonly publisherEndpoint: string;
  readonly listenerEndpoint: string;
  readonly serverPublicKey: string;
  readonly command: readonly string[];
  readonly software: string;
  /** The real client's liveness options (TCP keepalive, TCP_USER_TIMEOUT). */
  readonly liveness: boolean;
  /** 3: one DEALER connection (pings and checkins on it); 2: SUB + DEALER. */
  readonly wireVersion: 2 | 3;
  /** Emit a `ping` event per ping (besides counting it). */
  readonly reportPings: boolean;
  readonly emit: (event: SimEvent) => void;
  /** Counts pings answered (a counter, not an event: 10,000 clients × every ping_interval). */
  readonly onPing: () => void;
}

/**
 * One simulated system, wired like the real client: its own key pair and a CURVE DEALER with
 * a random routing id of its own (wire v3: the only connection, carrying pings and checkins
 * too; v2: plus a CURVE SUB subscribed to `system:<name> ` and `ping `); asks for a challenge
 * and says a signed hello on every (re)connect, answers pings with signed pongs (the shared
 * key), runs its rhn_check stand-in per checkin.
 */
export class SimClient {
  private readonly sub: zmq.Subscriber | undefined;
  private readonly dealer: zmq.Dealer;
  private readonly runner: SingleFlightRunner;
  private subUp = false;
  private dealerUp = false;
  private connected = false;
  private sendChain: Promise<void> = Promise.resolve();
  private lastRun: RunResult | undefined;
  private closed = false;
  /** A `refused busy` hello: the hello-request is sent again when this fires. */
  private retryTimer: NodeJS.Timeout | undefined;
  /** Refused keys in a row, and the reconnect after the last one (as the real client). */
  private authFailures = 0;
  private authRetryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly identity: SimIdentity,
    private readonly setup: SimClientSetup,
  ) {
    const curve = {
      context: setup.context,
      curveServerKey: setup.serverPublicKey,
      curvePublicKey: identity.publicKey,
      curveSecretKey: identity.secretKey,
      linger: SOCKET_DEFAULTS.linger,
      ...(setup.liveness ? clientLivenessOptions() : {}),
      // Each client draws its own first interval, so a restarted server is not hit by all at once.
      reconnectInterval: reconnectIntervalWithJitter(),
      reconnectMaxInterval: SOCKET_DEFAULTS.reconnectMaxInterval,
      maxMessageSize: SOCKET_DEFAULTS.maxMessageSize,
    };
    this.sub =
      setup.wireVersion === 2
        ? new zmq.Subscriber({
            ...curve,
            receiveHighWaterMark: SOCKET_DEFAULTS.receiveHighWaterMark,
          })
        : undefined;
    this.dealer = new zmq.Dealer({
      ...curve,
      routingId: `~${randomBytes(16).toString("base64url")}`,
      sendHighWaterMark: SOCKET_DEFAULTS.sendHighWaterMark,
    });
    this.runner = new SingleFlightRunner(
      setup.command,
      identity.name,
      (result) => {
        this.lastRun = result;
        setup.emit({ type: "run", name: identity.name, ...result });
      },
      (message) => setup.emit({ type: "error", name: identity.name, message, at: Date.now() }),
    );
  }

  /** Creates the connections (they complete in the background) and starts listening. */
  start(): void {
    const name = this.identity.name;
    this.watch(this.dealer, this.setup.listenerEndpoint, (up) => (this.dealerUp = up));
    const sub = this.sub;
    if (sub === undefined) this.subUp = true;
    else {
      this.watch(sub, this.setup.publisherEndpoint, (up) => (this.subUp = up));
      for (const topic of clientSubscriptions(name)) sub.subscribe(topic);
      sub.connect(this.setup.publisherEndpoint);
      void this.receive(sub);
    }
    this.dealer.connect(this.setup.listenerEndpoint);
    void this.receiveReplies();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.authRetryTimer);
    this.runner.close();
    this.sub?.close();
    this.dealer.close();
  }

  private watch(socket: zmq.Socket, endpoint: string, set: (up: boolean) => void): void {
    const name = this.identity.name;
    socket.events.on("handshake", () => {
      this.authFailures = 0;
      set(true);
      this.update();
    });
    socket.events.on("disconnect", () => {
      set(false);
      this.update();
    });
    socket.events.on("handshake:error:auth", () => {
      this.setup.emit({ type: "auth-failed", name, at: Date.now() });
      this.reconnectAfterRefusal(socket, endpoint);
    });
  }

  /**
   * libzmq never retries a connection whose key was refused (its session ends); the real
   * client closes and retries with back-off, so does this one — a proxy that refuses a key
   * because the server did not answer in time must not strand its client for good.
   */
  private reconnectAfterRefusal(socket: zmq.Socket, endpoint: string): void {
    if (this.closed || this.authRetryTimer !== undefined) return;
    this.authFailures += 1;
    const delayMs = backoffDelay(this.authFailures, {
      minMs: SOCKET_DEFAULTS.reconnectInterval,
      maxMs: AUTH_RETRY_MAX_MS,
      jitter: AUTH_RETRY_JITTER,
    });
    this.authRetryTimer = setTimeout(() => {
      this.authRetryTimer = undefined;
      if (this.closed) return;
      try {
        socket.disconnect(endpoint);
      } catch {
        // The refused session is already gone: nothing to disconnect.
      }
      socket.connect(endpoint);
    }, delayMs);
  }

  /** Hello only when both connections are up: the server's catch-up checkin must find the SUB ready. */
  private update(): void {
    const name = this.identity.name;
    const up = this.subUp && this.dealerUp;
    if (up && !this.connected) {
      this.connected = true;
      this.send(encodeHelloRequest(this.setup.wireVersion));
      this.setup.emit({ type: "connected", name, at: Date.now() });
    } else if (!up && this.connected) {
      this.connected = false;
      this.setup.emit({ type: "disconnected", name, at: Date.now() });
    }
  }

  /** zeromq.js allows one send in flight per socket; queue behind the previous one. */
  private send(frame: Buffer): void {
    this.sendChain = this.sendChain
      .then(() => this.dealer.send(frame))
      .catch((error: unknown) => {
        if (this.closed) return;
        const message = error instanceof Error ? error.message : String(error);
        this.setup.emit({
          type: "error",
          name: this.identity.name,
          message: `send: ${message}`,
          at: Date.now(),
        });
      });
  }

  /** The server's replies: a challenge is answered with the signed hello. */
  private async receiveReplies(): Promise<void> {
    const name = this.identity.name;
    try {
      for await (const frames of this.dealer) {
        let reply;
        try {
          reply = decodeConnectionMessage(frames);
        } catch (error) {
          this.setup.emit({
            type: "error",
            name,
            message: (error as Error).message,
            at: Date.now(),
          });
          continue;
        }
        if (reply.kind === "ping" || reply.kind === "checkin") {
          this.published(reply, Date.now());
        } else if (reply.kind === "challenge") {
          const lastRun = this.lastRun
            ? { at: Math.floor(this.lastRun.endedAt / 1000), exitCode: this.lastRun.exitCode }
            : null;
          const hello = { clientName: name, software: this.setup.software, lastRun };
          const { sharedKey, publicKey } = this.identity;
          this.send(
            reply.version === 3
              ? encodeConnectionHello(hello, reply.nonce, sharedKey, publicKey)
              : encodeSignedHello(hello, reply.nonce, sharedKey),
          );
        } else if (reply.kind === "refused" && reply.reason !== "unsigned") {
          // As the real client: a stale challenge is asked for again at once, a busy server
          // after 2–6 s (jittered, so a refused fleet does not come back in step).
          clearTimeout(this.retryTimer);
          const delayMs = reply.reason === "busy" ? 2_000 * (1 + 2 * Math.random()) : 0;
          this.setup.emit({ type: "refused", name, reason: reply.reason, at: Date.now() });
          this.retryTimer = setTimeout(() => {
            if (!this.closed && this.connected)
              this.send(encodeHelloRequest(this.setup.wireVersion));
          }, delayMs);
        } else {
          this.setup.emit({
            type: "error",
            name,
            message: `server: ${reply.kind}`,
            at: Date.now(),
          });
        }
      }
    } catch {
      // closed
    }
  }

  /** A ping or a checkin, from the SUB (v2) or the connection (v3). */
  private published(message: PublisherMessage, at: number): void {
    const name = this.identity.name;
    if (message.kind === "ping") {
      this.setup.onPing();
      if (this.setup.reportPings) this.setup.emit({ type: "ping", name, at });
      this.send(encodeSignedPong(name, message.token, this.identity.sharedKey));
    } else if (message.clientName === name) {
      this.setup.emit({ type: "checkin", name, at });
      this.runner.request();
    } else {
      this.setup.emit({ type: "error", name, message: `checkin for ${message.clientName}`, at });
    }
  }

  private async receive(sub: zmq.Subscriber): Promise<void> {
    const name = this.identity.name;
    try {
      for await (const frames of sub) {
        const at = Date.now();
        let message;
        try {
          message = decodePublisherMessage(frames);
        } catch (error) {
          this.setup.emit({ type: "error", name, message: (error as Error).message, at });
          continue;
        }
        this.published(message, at);
      }
    } catch (error) {
      if (!this.closed) {
        this.setup.emit({
          type: "error",
          name,
          message: `receive: ${(error as Error).message}`,
          at: Date.now(),
        });
      }
    }
  }
}
