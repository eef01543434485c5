import {
  encodeChallenge,
  encodeRefused,
  encodeUnknownClient,
  isValidClientName,
  newPingToken,
  verifySignature,
  type ClientHello,
  type ListenerMessage,
  type SignedMessageType,
} from "@osad2/protocol";
import type { Logger } from "@osad2/service-kit";
import type { PeerDirectory, ReplySender } from "../transport/ports.js";
import type { SharedKeyCache, SharedKeyLookup } from "./shared-keys.js";

/** How long a challenge may be answered. */
export const CHALLENGE_TTL_MS = 60_000;
/** Outstanding challenges at most (one per connection); the oldest is dropped first. */
const MAX_CHALLENGES = 100_000;

/** Why a client message changed nothing. */
export type RefusalKind =
  /** A seed-format (unsigned) message while allow_unsigned_clients = 0. */
  | "unsigned"
  /** The signature does not verify with the name's shared key. */
  | "bad-signature"
  /** No push client of this name. */
  | "unknown-client"
  /** A hello whose challenge this connection was not given (or that expired). */
  | "stale-nonce"
  /** A pong to a ping that is not among the last few. */
  | "stale-token"
  /**
   * The shared key could not be read (too many lookups waiting, or the database failed); a
   * hello is answered `refused busy` (ask again later).
   */
  | "busy"
  /** Behind a proxy: the hello signs another CURVE key than the one the proxy admitted. */
  | "key-mismatch"
  /** Behind a proxy: the connection's key is not (or no longer) on the allow-list. */
  | "key-not-allowed";

/** Which ping tokens a pong may answer. */
export interface PingTokens {
  isRecentPing(token: string): boolean;
}

/** What authenticated messages do (presence). None may throw. */
export interface AuthenticatedHandler {
  pong(clientName: string): void;
  hello(clientName: string, hello: ClientHello): void;
  goodbye(clientName: string): void;
}

/** One refused message. */
export interface Refusal {
  readonly reason: RefusalKind;
  /** The name the message claimed, if any. */
  readonly clientName?: string;
  /** The connection's routing id, hex. */
  readonly routingId: string;
  /** The peer addresses the connection may have come from. */
  readonly peers: readonly string[];
}

/** Told about every refused message (metrics, rate-limited logs). */
export interface IdentityReport {
  refused(refusal: Refusal): void;
}

/** A message that proved its push client name (signature verified, or an allowed seed message). */
export interface VerifiedMessage {
  readonly type: SignedMessageType;
  readonly clientName: string;
  /** A hello's client software version. */
  readonly software?: string;
  /** A v3 hello's signed claim of the CURVE key it connected with (diagnostics only). */
  readonly curvePublicKey?: string;
}

/** Binds verified v3 hellos' names to their connections (transport/routes.ts). */
export interface ConnectionBindings {
  bind(clientName: string, routingId: Buffer): void;
  /** The client speaks v2 (PUB) now, or said goodbye: no connection of its own any more. */
  release(clientName: string): void;
}

/** Watches connections for diagnostics (which key, which name); never changes a decision. */
export interface ConnectionObserver {
  /** Every message, before it is checked. */
  received(routingId: Buffer, kind: ListenerMessage["kind"]): void;
  verified(routingId: Buffer, message: VerifiedMessage): void;
  refused(refusal: Refusal): void;
}

/** Settings SIGHUP may change. */
export interface AuthenticatorSettings {
  /** Accept the seed's unsigned format (routing id = client name): allow_unsigned_clients. */
  readonly allowUnsigned: boolean;
}

/** Options of {@link ClientAuthenticator}. */
export interface AuthenticatorOptions extends AuthenticatorSettings {
  readonly keys: SharedKeyCache;
  readonly tokens: PingTokens;
  readonly replies: ReplySender;
  readonly handler: AuthenticatedHandler;
  readonly report: IdentityReport;
  readonly peers?: PeerDirectory;
  /** Where v3 hellos bind their names. Default: nowhere (no v3 clients, as in v2). */
  readonly bindings?: ConnectionBindings;
  /** Told about connections and names (diagnostics). Default: nobody. */
  readonly observer?: ConnectionObserver;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface Challenge {
  readonly nonce: string;
  readonly until: number;
  /** Asked with `hello-request 3`: only a v3 hello answers it. */
  readonly v3: boolean;
}

/**
 * Binds what clients say to the secret only they hold: a hello, pong or goodbye changes
 * presence only when its HMAC verifies with the claimed name's shared key
 * (rhnPushClient.shared_key) over a nonce this server issued (a challenge for a hello, a
 * recent ping token for a pong). The routing id is never taken as identity; it only addresses
 * replies: `challenge`, `unknown-client` (register again) and `refused`.
 */
export class ClientAuthenticator {
  private settings: AuthenticatorSettings;
  /** Routing id (hex) → the challenge it was given. */
  private readonly challenges = new Map<string, Challenge>();

  constructor(private readonly options: AuthenticatorOptions) {
    this.settings = options;
  }

  configure(settings: AuthenticatorSettings): void {
    this.settings = settings;
  }

  /** One decoded message from the connection `routingId`. Never throws. */
  received(routingId: Buffer, message: ListenerMessage): void {
    this.options.observer?.received(routingId, message.kind);
    switch (message.kind) {
      case "hello-request":
        this.challenge(routingId, message.version === 3);
        return;
      case "signed-pong":
        if (!this.options.tokens.isRecentPing(message.token)) {
          this.refuse(routingId, "stale-token", message.clientName);
          return;
        }
        this.verified(routingId, "pong", message.clientName, message.token, message.mac, () =>
          this.options.handler.pong(message.clientName),
        );
        return;
      case "goodbye": {
        const challenge = this.challenges.get(routingId.toString("hex"));
        const fresh =
          this.options.tokens.isRecentPing(message.nonce) ||
          (challenge !== undefined &&
            challenge.nonce === message.nonce &&
            challenge.until > this.now());
        if (!fresh) {
          this.refuse(routingId, "stale-nonce", message.clientName);
          return;
        }
        this.verified(routingId, "goodbye", message.clientName, message.nonce, message.mac, () => {
          this.options.bindings?.release(message.clientName);
          this.options.handler.goodbye(message.clientName);
        });
        return;
      }
      case "hello":
        this.hello(routingId, message.hello);
        return;
      case "pong":
        this.unsigned(routingId, (name) => {
          this.options.observer?.verified(routingId, { type: "pong", clientName: name });
          this.options.handler.pong(name);
        });
        return;
    }
  }

  private hello(routingId: Buffer, hello: ClientHello): void {
    const signature = hello.signature;
    if (signature === undefined) {
      this.unsigned(routingId, (name) => {
        // A v1 hello names itself; it must be the connection's routing id (the seed's identity).
        if (name === hello.clientName) {
          this.options.observer?.verified(routingId, {
            type: "hello",
            clientName: name,
            software: hello.software,
          });
          this.options.bindings?.release(name);
          this.options.handler.hello(name, hello);
        } else this.refuse(routingId, "unknown-client", hello.clientName);
      });
      return;
    }
    const id = routingId.toString("hex");
    const challenge = this.challenges.get(id);
    const v3 = hello.version === 3;
    if (
      challenge === undefined ||
      challenge.nonce !== signature.nonce ||
      challenge.until <= this.now() ||
      challenge.v3 !== v3
    ) {
      this.refuse(routingId, "stale-nonce", hello.clientName);
      this.options.replies.reply(routingId, encodeRefused("stale-nonce"));
      return;
    }
    // Used once: a recorded hello cannot be played again on this connection.
    this.challenges.delete(id);
    this.verified(
      routingId,
      "hello",
      hello.clientName,
      signature.nonce,
      signature.mac,
      () => {
        // Bound before presence hears of it: the catch-up checkin goes to this connection.
        if (v3) this.options.bindings?.bind(hello.clientName, routingId);
        else this.options.bindings?.release(hello.clientName);
        this.options.handler.hello(hello.clientName, hello);
      },
      hello.software,
      hello.curvePublicKey,
    );
  }

  private challenge(routingId: Buffer, v3: boolean): void {
    const id = routingId.toString("hex");
    const nonce = newPingToken();
    this.challenges.delete(id);
    this.challenges.set(id, { nonce, until: this.now() + CHALLENGE_TTL_MS, v3 });
    this.dropOldChallenges();
    this.options.replies.reply(routingId, encodeChallenge(nonce, v3 ? 3 : undefined));
  }

  private unsigned(routingId: Buffer, accept: (clientName: string) => void): void {
    const name = routingId.toString("latin1");
    if (!this.settings.allowUnsigned || !isValidClientName(name)) {
      this.refuse(routingId, "unsigned", isValidClientName(name) ? name : undefined);
      this.options.replies.reply(routingId, encodeRefused("unsigned"));
      return;
    }
    accept(name);
  }

  private verified(
    routingId: Buffer,
    type: SignedMessageType,
    clientName: string,
    nonce: string,
    mac: string,
    accept: () => void,
    software?: string,
    curvePublicKey?: string,
  ): void {
    const check = (lookup: SharedKeyLookup, retried: boolean): void => {
      if (!lookup.found) {
        this.refuse(routingId, lookup.busy ? "busy" : "unknown-client", clientName);
        if (!lookup.busy) this.options.replies.reply(routingId, encodeUnknownClient(clientName));
        // Never silence for a hello: without an answer the client would wait, connected and
        // offline, for a ping round to get it online. A pong is answered by the next round.
        else if (type === "hello") this.options.replies.reply(routingId, encodeRefused("busy"));
        return;
      }
      if (!verifySignature(lookup.key, type, clientName, nonce, mac, curvePublicKey)) {
        if (!retried) {
          // The key may have changed since it was cached (registered again elsewhere): read
          // it once more (the cache allows that once per name per few seconds).
          this.options.keys.lookup(clientName, true).then((again) => check(again, true), failed);
          return;
        }
        this.refuse(routingId, "bad-signature", clientName);
        // The real client after a re-registration elsewhere, or a forger: either way the
        // answer goes only to this connection, and the remedy is to register again.
        this.options.replies.reply(routingId, encodeUnknownClient(clientName));
        return;
      }
      this.options.observer?.verified(routingId, {
        type,
        clientName,
        ...(software === undefined ? {} : { software }),
        ...(curvePublicKey === undefined ? {} : { curvePublicKey }),
      });
      try {
        accept();
      } catch (error) {
        this.options.logger.error({ err: error, clientName }, "client message handler failed");
      }
    };
    const failed = (error: unknown): void => {
      this.options.logger.warn({ err: error, clientName }, "could not check the client's message");
      this.refuse(routingId, "busy", clientName);
    };
    const cached = this.options.keys.cached(clientName);
    if (cached !== undefined) check(cached, false);
    else this.options.keys.lookup(clientName).then((lookup) => check(lookup, false), failed);
  }

  private refuse(routingId: Buffer, reason: RefusalKind, clientName: string | undefined): void {
    const refusal: Refusal = {
      reason,
      ...(clientName === undefined ? {} : { clientName }),
      routingId: routingId.toString("hex").slice(0, 64),
      peers: this.options.peers?.peersOf(routingId) ?? [],
    };
    this.options.report.refused(refusal);
    this.options.observer?.refused(refusal);
  }

  private dropOldChallenges(): void {
    const now = this.now();
    for (const [id, challenge] of this.challenges) {
      if (this.challenges.size <= MAX_CHALLENGES && challenge.until > now) break;
      this.challenges.delete(id);
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
