import type { KeyUsage } from "@osad2/keys";

/**
 * What a running server tells `doctor` and `systems` over its control socket (JSON, version
 * 1). Times are ISO 8601. This is diagnostics: which key a connection used is correlated from
 * handshake timing (see connection-book.ts) and may be ambiguous; it never authorizes anything.
 */

/** Which key a connection used, as well as the server can tell. */
export type KeyAttribution =
  /** Exactly one key was admitted for it. */
  | { readonly kind: "known"; readonly publicKey: string; readonly keyName: string | null }
  /**
   * Several handshakes (different keys) were waiting when it first spoke: one of these, the
   * latest few listed, `others` more not (a fleet connecting at once).
   */
  | {
      readonly kind: "ambiguous";
      readonly candidates: readonly {
        readonly publicKey: string;
        readonly keyName: string | null;
      }[];
      /** Waiting keys not listed in `candidates` (absent when none). */
      readonly others?: number;
    }
  /** No admitted handshake was waiting (e.g. it connected before this server's restart). */
  | { readonly kind: "unknown" };

/** One DEALER connection to the ROUTER, by routing id. */
export interface LiveConnection {
  /** The routing id, hex (the client picks a random one per socket). */
  readonly routingId: string;
  readonly key: KeyAttribution;
  /** Peer address of its handshake, when attributed. */
  readonly address: string | null;
  /** When it first spoke (its handshake, when attributed). */
  readonly since: string;
  /** Its last message of any kind. */
  readonly lastMessage: string;
  /** The push client name its last verified message (signed hello, pong, goodbye) proved. */
  readonly clientName: string | null;
  /** Its last signed hello. */
  readonly lastHello: string | null;
  /** Its last signed pong (proves its SUB connection receives our pings). */
  readonly lastPong: string | null;
  /** A pong came after its last hello: its subscription is in place (the dispatcher's rule). */
  readonly subscriptionProven: boolean;
  /** The client software version from its hello. */
  readonly software: string | null;
  /** It said goodbye (stopped cleanly). */
  readonly goodbye: string | null;
  /**
   * Behind osad2 proxies: their names from this server down to the client's own proxy (e.g.
   * `["dmz", "branch7"]`); absent for a direct connection. Its address is then the client's
   * as its proxy saw it, and its key the one the proxy admitted (and the hello signed).
   */
  readonly via?: readonly string[];
  /** Behind a proxy: the link that carried it is gone (its connection with it). */
  readonly closed?: boolean;
}

/** An osad2 proxy linked to this server's proxy port. */
export interface LiveProxy {
  readonly name: string;
  /** Client connections it carries now (its own and its children's). */
  readonly connections: number;
  /** When its link session started. */
  readonly since: string;
}

/** A SUB connection's handshake to the PUB socket (the server sees no more of SUB peers). */
export interface LiveSubscriberHandshake {
  readonly publicKey: string;
  readonly keyName: string | null;
  readonly address: string;
  readonly at: string;
}

/** A refused handshake or message. */
export interface LiveFailure {
  readonly at: string;
  /** ZAP: unknown-key, wrong-domain, …; ROUTER messages: bad-signature, unknown-client, …; "handshake" (CURVE failed before ZAP). */
  readonly reason: string;
  readonly address: string | null;
  readonly publicKey: string | null;
  readonly keyName: string | null;
  readonly clientName: string | null;
}

/** The last checkin published for one push client. */
export interface LiveNotification {
  readonly clientName: string;
  readonly serverId: number;
  readonly actionIds: readonly number[];
  readonly at: string;
}

/** The running server's state for diagnostics. */
export interface LiveState {
  readonly version: 1;
  readonly pid: number;
  readonly startedAt: string;
  readonly now: string;
  readonly settings: {
    /** The notifying role (PostgreSQL failover); absent from servers before failover. */
    readonly role?: "active" | "standby";
    readonly pingIntervalMs: number;
    readonly missedPings: number;
    /** notify_threshold (0 = unlimited). */
    readonly notifyThreshold: number;
    readonly renotifyPickedUp: boolean;
    readonly publisherPort: number;
    readonly listenerPort: number;
    /** proxy_port; absent from servers before proxies. */
    readonly proxyPort?: number;
  };
  /** Push clients this server manages (managed-clients.json). */
  readonly managed: readonly string[];
  /** Of those, online in rhnPushClient as presence knows it. */
  readonly online: readonly string[];
  /** Systems asked to check in and not done yet (they hold throttle slots). */
  readonly asked: number;
  /** The osad2 proxies linked now (absent from servers before proxies). */
  readonly proxies?: readonly LiveProxy[];
  readonly connections: readonly LiveConnection[];
  readonly subscribers: readonly LiveSubscriberHandshake[];
  readonly notifications: readonly LiveNotification[];
  readonly failures: readonly LiveFailure[];
  /** Key name → what was last seen of it (what key-usage.json gets at the next flush). */
  readonly usage: Readonly<Record<string, KeyUsage>>;
}
