import type { KeyUsage } from "@osad2/keys";
import type { ConnectionObserver, Refusal, VerifiedMessage } from "../presence/authenticator.js";
import type { AdmittedHandshake, HandshakeLog } from "../transport/zap.js";
import type {
  KeyAttribution,
  LiveConnection,
  LiveFailure,
  LiveNotification,
  LiveSubscriberHandshake,
} from "./live-types.js";
import type { ClientSystems, KeyNames } from "./ports.js";

/** Handshakes this recent may be the one of a connection first heard from now. */
const ADMISSION_WINDOW_MS = 30_000;
const MAX_ADMISSIONS = 1_024;
/**
 * An ambiguous connection lists this many of the keys it may have used, the latest handshakes
 * first. Not all: 18,000 clients connecting at 200/s leave hundreds of handshakes pending, and
 * a list of each in every connection's record was 100 KiB per connection and the server's
 * busiest code (a key-name look-up per pending handshake per new connection).
 */
const MAX_CANDIDATES = 8;
const MAX_CONNECTIONS = 20_000;
const MAX_SUBSCRIBERS = 20_000;
const MAX_FAILURES = 200;
const MAX_NOTIFICATIONS = 20_000;
/** Connections silent this long are forgotten (they went away; the server is not told). */
const CONNECTION_TTL_MS = 3_600_000;
/**
 * A connection's place in the book (oldest message first, dropped first) and its key's
 * last-seen time are brought up to date at most this often. Per message, a Map delete and set
 * and a new usage record were a sixth of the idle server's own work at 18,000 clients (one
 * pong each per ping round); eviction and the TTL are an hour, key usage is shown to the minute.
 */
const REFRESH_MS = 60_000;

interface Admission {
  readonly address: string;
  readonly publicKey: string;
  readonly at: number;
  consumed: boolean;
}

interface Connection {
  readonly routingId: string;
  key: KeyAttribution;
  address: string | null;
  since: number;
  lastMessage: number;
  /** When it last took its place in the book's order (see REFRESH_MS). */
  placed: number;
  clientName: string | null;
  lastHello: number | null;
  lastPong: number | null;
  software: string | null;
  goodbye: number | null;
  /** The handshake it was attributed to, if any (given back when a signed claim corrects it). */
  handshake: Admission | null;
  /** Behind proxies: their path (the key and address came from its proxy's `open`). */
  via: readonly string[] | null;
  closed: boolean;
}

/** Where a connection behind proxies comes from, as its link announced it (proxy-links.ts). */
export interface ProxiedPeerSource {
  peerOf(id: Buffer):
    | {
        readonly path: readonly string[];
        readonly address: string | null;
        readonly publicKey: string | null;
      }
    | undefined;
}

/** Who a push client is, for the "client online" log line. */
export interface ClientIdentity {
  readonly serverId: number | null;
  readonly keyName: string | null;
}

/** Options of {@link ConnectionBook}. */
export interface ConnectionBookOptions {
  readonly keys: KeyNames;
  readonly systems: ClientSystems;
  /** What key-usage.json held at start (kept and updated). */
  readonly usage?: ReadonlyMap<string, KeyUsage>;
  readonly now?: () => number;
}

/**
 * Which CURVE key and address each ROUTER connection came from, and which push client it
 * proved to be. libzmq's ZAP request carries the peer address and key but not the peer's
 * routing id (its "identity" frame is the server socket's own), and zeromq.js exposes no
 * per-message peer properties. So every admitted handshake is kept for a while and, when a
 * routing id first speaks, matched to the handshakes not yet taken by another connection: one
 * key among them is an attribution; several keys are reported as ambiguous, never guessed.
 * A known routing id asking for a hello again has reconnected: it takes its key's handshake.
 * The signed hello then ties the connection to a push client name; a v3 hello also signs the
 * CURVE key the client connected with, which settles an ambiguous (or mistaken) attribution
 * when that key is among the pending handshakes: exact even after a restart storm. Diagnostics
 * only: never authorization (ZAP admitted the key; the shared key proved the name).
 */
export class ConnectionBook implements HandshakeLog, ConnectionObserver {
  private readonly admissions: Admission[] = [];
  private readonly connections = new Map<string, Connection>();
  /** Push client name → the routing id (hex) that last proved it. */
  private readonly byClient = new Map<string, string>();
  private readonly subscribers = new Map<string, LiveSubscriberHandshake>();
  private readonly failures: LiveFailure[] = [];
  private readonly notifications = new Map<string, LiveNotification>();
  private readonly usage: Map<string, KeyUsage>;
  /** Client name → its system (looked up once per name). */
  private readonly systemsByName = new Map<
    string,
    Promise<{ serverId: number; profileName: string } | undefined>
  >();
  private usageDirty = false;

  constructor(private readonly options: ConnectionBookOptions) {
    this.usage = new Map(options.usage ?? []);
  }

  /** ZAP let a handshake in. */
  admitted(handshake: AdmittedHandshake): void {
    const now = this.now();
    const keyName = this.options.keys.nameOf(handshake.publicKey);
    if (handshake.socket === "publisher") {
      this.subscribers.delete(handshake.publicKey);
      this.subscribers.set(handshake.publicKey, {
        publicKey: handshake.publicKey,
        keyName,
        address: handshake.address,
        at: new Date(now).toISOString(),
      });
      if (this.subscribers.size > MAX_SUBSCRIBERS) this.dropOldest(this.subscribers);
    } else {
      this.admissions.push({ ...handshake, at: now, consumed: false });
      if (this.admissions.length > MAX_ADMISSIONS) this.admissions.shift();
    }
    if (keyName !== null) this.touchUsage(keyName, { address: handshake.address }, now);
  }

  /** A refused handshake or message (ZAP, CURVE, or the authenticator). */
  failed(failure: Omit<LiveFailure, "at" | "keyName">): void {
    const keyName = failure.publicKey === null ? null : this.options.keys.nameOf(failure.publicKey);
    this.failures.push({ ...failure, keyName, at: new Date(this.now()).toISOString() });
    if (this.failures.length > MAX_FAILURES) this.failures.shift();
  }

  /** The authenticator refused a message (bad signature, unknown name, …). */
  refused(refusal: Refusal): void {
    const connection = this.connections.get(refusal.routingId);
    const key = connection?.key;
    this.failed({
      reason: refusal.reason,
      address: connection?.address ?? refusal.peers[0] ?? null,
      publicKey: key?.kind === "known" ? key.publicKey : null,
      clientName: refusal.clientName ?? null,
    });
  }

  /** A checkin went out. */
  notified(event: { clientName: string; serverId: number; actionIds: readonly number[] }): void {
    this.notifications.delete(event.clientName);
    this.notifications.set(event.clientName, {
      clientName: event.clientName,
      serverId: event.serverId,
      actionIds: [...event.actionIds],
      at: new Date(this.now()).toISOString(),
    });
    if (this.notifications.size > MAX_NOTIFICATIONS) this.dropOldest(this.notifications);
  }

  /** Any message on the ROUTER, before it is checked. */
  received(routingId: Buffer, kind: string): void {
    this.receivedAt(routingId.toString("hex"), kind, undefined);
  }

  /**
   * The book's view of the connections behind proxies: ids of their own space (never mixed
   * with the ROUTER's routing ids), key, address and path as their link announced them.
   */
  proxied(peers: ProxiedPeerSource): ConnectionObserver & { closed(id: Buffer): void } {
    const idOf = (id: Buffer): string => `via:${id.toString("hex")}`;
    return {
      received: (id, kind) => {
        const peer = peers.peerOf(id);
        if (peer !== undefined) this.receivedAt(idOf(id), kind, peer);
      },
      verified: (id, message) => this.verifiedAt(idOf(id), message),
      refused: (refusal) => this.refused({ ...refusal, routingId: `via:${refusal.routingId}` }),
      closed: (id) => {
        const connection = this.connections.get(idOf(id));
        if (connection !== undefined) connection.closed = true;
      },
    };
  }

  private receivedAt(
    id: string,
    kind: string,
    peer: ReturnType<ProxiedPeerSource["peerOf"]>,
  ): void {
    const now = this.now();
    let connection = this.connections.get(id);
    if (connection === undefined) {
      connection = peer === undefined ? this.attribute(id, now) : this.announced(id, peer, now);
    } else {
      if (peer === undefined && kind === "hello-request" && connection.key.kind === "known") {
        const handshake = this.take(connection.key.publicKey, now);
        if (handshake !== undefined) {
          connection.since = handshake.at;
          connection.address = handshake.address;
          connection.handshake = handshake;
        }
      }
      if (now - connection.placed < REFRESH_MS) {
        connection.lastMessage = now;
        return;
      }
      // Re-inserted so the map stays in order of last message (the oldest is dropped first).
      this.connections.delete(id);
    }
    connection.lastMessage = now;
    connection.placed = now;
    this.connections.set(id, connection);
    if (this.connections.size > MAX_CONNECTIONS) this.dropOldest(this.connections);
  }

  /** A message whose signature verified (or, with allow_unsigned_clients, a seed message). */
  verified(routingId: Buffer, message: VerifiedMessage): void {
    this.verifiedAt(routingId.toString("hex"), message);
  }

  private verifiedAt(id: string, message: VerifiedMessage): void {
    const connection = this.connections.get(id);
    if (connection === undefined) return;
    const now = this.now();
    if (message.curvePublicKey !== undefined && connection.via === null)
      this.claimKey(connection, message.curvePublicKey, now);
    connection.clientName = message.clientName;
    if (this.byClient.get(message.clientName) !== connection.routingId) {
      this.byClient.delete(message.clientName);
      this.byClient.set(message.clientName, connection.routingId);
      if (this.byClient.size > MAX_CONNECTIONS) this.dropOldest(this.byClient);
    }
    if (message.type === "hello") {
      connection.lastHello = now;
      connection.goodbye = null;
      if (message.software !== undefined) connection.software = message.software;
    } else if (message.type === "pong") {
      connection.lastPong = now;
    } else {
      connection.goodbye = now;
    }
    const key = connection.key;
    if (key.kind !== "known" || key.keyName === null) return;
    const keyName = key.keyName;
    const known = this.usage.get(keyName);
    this.touchUsage(keyName, { clientName: message.clientName }, now);
    if (known?.clientName === message.clientName && known.serverId !== null) return;
    void this.systemOf(message.clientName).then((system) => {
      if (system === undefined) return;
      const entry = this.usage.get(keyName);
      if (entry === undefined || entry.clientName !== message.clientName) return;
      this.usage.set(keyName, {
        ...entry,
        serverId: system.serverId,
        profileName: system.profileName,
      });
      this.usageDirty = true;
    });
  }

  /** Server id and key name of a push client, for its "client online" log line. */
  async identify(clientName: string): Promise<ClientIdentity> {
    const system = await this.systemOf(clientName);
    const routingId = this.byClient.get(clientName);
    const key = routingId === undefined ? undefined : this.connections.get(routingId)?.key;
    return {
      serverId: system?.serverId ?? null,
      keyName: key?.kind === "known" ? key.keyName : null,
    };
  }

  /** The connections, subscriber handshakes, notifications and failures, for the control socket. */
  snapshot(): {
    connections: LiveConnection[];
    subscribers: LiveSubscriberHandshake[];
    notifications: LiveNotification[];
    failures: LiveFailure[];
    usage: Record<string, KeyUsage>;
  } {
    const horizon = this.now() - CONNECTION_TTL_MS;
    for (const [id, connection] of this.connections) {
      if (connection.lastMessage >= horizon) break;
      this.connections.delete(id);
    }
    const iso = (at: number | null): string | null =>
      at === null ? null : new Date(at).toISOString();
    return {
      connections: [...this.connections.values()].map((c) => ({
        routingId: c.routingId,
        key: c.key,
        address: c.address,
        since: new Date(c.since).toISOString(),
        lastMessage: new Date(c.lastMessage).toISOString(),
        clientName: c.clientName,
        lastHello: iso(c.lastHello),
        lastPong: iso(c.lastPong),
        subscriptionProven:
          c.lastPong !== null && (c.lastHello === null || c.lastPong > c.lastHello),
        software: c.software,
        goodbye: iso(c.goodbye),
        ...(c.via === null ? {} : { via: c.via, ...(c.closed ? { closed: true } : {}) }),
      })),
      subscribers: [...this.subscribers.values()],
      notifications: [...this.notifications.values()],
      failures: [...this.failures],
      usage: Object.fromEntries(this.usage),
    };
  }

  /** The key usage if it changed since the last call (for key-usage.json), else undefined. */
  takeUsage(): ReadonlyMap<string, KeyUsage> | undefined {
    if (!this.usageDirty) return undefined;
    this.usageDirty = false;
    return new Map(this.usage);
  }

  /** A failed write: the same usage is written next time. */
  usageNotSaved(): void {
    this.usageDirty = true;
  }

  private attribute(id: string, now: number): Connection {
    const since = now - ADMISSION_WINDOW_MS;
    // Distinct keys of the waiting handshakes, latest first (only their number is needed beyond the few kept).
    const distinct = new Set<string>();
    for (let i = this.admissions.length - 1; i >= 0; i--) {
      const a = this.admissions[i] as Admission;
      if (a.at < since) break;
      if (!a.consumed) distinct.add(a.publicKey);
    }
    const keys = [...distinct];
    let key: KeyAttribution = { kind: "unknown" };
    let address: string | null = null;
    let at = now;
    let handshake: Admission | undefined;
    if (keys.length === 1) {
      const publicKey = keys[0] as string;
      handshake = this.take(publicKey, now);
      key = { kind: "known", publicKey, keyName: this.options.keys.nameOf(publicKey) };
      address = handshake?.address ?? null;
      at = handshake?.at ?? now;
    } else if (keys.length > 1) {
      // The latest few (the likeliest: a client speaks right after its handshake), oldest first.
      const listed = keys.slice(0, MAX_CANDIDATES).reverse();
      key = {
        kind: "ambiguous",
        candidates: listed.map((publicKey) => ({
          publicKey,
          keyName: this.options.keys.nameOf(publicKey),
        })),
        ...(keys.length > listed.length ? { others: keys.length - listed.length } : {}),
      };
    }
    return {
      routingId: id,
      key,
      address,
      since: at,
      lastMessage: now,
      placed: now,
      clientName: null,
      lastHello: null,
      lastPong: null,
      software: null,
      goodbye: null,
      handshake: handshake ?? null,
      via: null,
      closed: false,
    };
  }

  /** A connection behind proxies: its proxy told its key and address (it admitted the key). */
  private announced(
    id: string,
    peer: NonNullable<ReturnType<ProxiedPeerSource["peerOf"]>>,
    now: number,
  ): Connection {
    const key: KeyAttribution =
      peer.publicKey === null
        ? { kind: "unknown" }
        : {
            kind: "known",
            publicKey: peer.publicKey,
            keyName: this.options.keys.nameOf(peer.publicKey),
          };
    if (key.kind === "known" && key.keyName !== null && peer.address !== null)
      this.touchUsage(key.keyName, { address: peer.address }, now);
    return {
      routingId: id,
      key,
      address: peer.address,
      since: now,
      lastMessage: now,
      placed: now,
      clientName: null,
      lastHello: null,
      lastPong: null,
      software: null,
      goodbye: null,
      handshake: null,
      via: [...peer.path],
      closed: false,
    };
  }

  /**
   * A v3 hello signed the key its client connected with. A connection that several pending
   * handshakes could have been takes the claimed key when it is among them (and that
   * handshake); a claim matching no pending handshake changes nothing. Never authorization.
   */
  private claimKey(connection: Connection, publicKey: string, now: number): void {
    const key = connection.key;
    if (key.kind === "known" && key.publicKey === publicKey) return;
    // An ambiguous connection takes a claim among its candidates, or among the ones not listed.
    if (
      key.kind === "ambiguous" &&
      key.others === undefined &&
      !key.candidates.some((c) => c.publicKey === publicKey)
    )
      return;
    const handshake = this.take(publicKey, now);
    if (handshake === undefined) return;
    // A lone pending handshake taken at first sight was another client's: give it back.
    if (connection.handshake !== null) connection.handshake.consumed = false;
    connection.handshake = handshake;
    connection.key = { kind: "known", publicKey, keyName: this.options.keys.nameOf(publicKey) };
    connection.address = handshake.address;
    connection.since = handshake.at;
  }

  /** The oldest waiting handshake with this key, marked taken. */
  private take(publicKey: string, now: number): Admission | undefined {
    const since = now - ADMISSION_WINDOW_MS;
    const handshake = this.admissions.find(
      (a) => !a.consumed && a.at >= since && a.publicKey === publicKey,
    );
    if (handshake !== undefined) handshake.consumed = true;
    return handshake;
  }

  private touchUsage(
    keyName: string,
    change: { address?: string; clientName?: string },
    now: number,
  ): void {
    const known = this.usage.get(keyName);
    if (
      known !== undefined &&
      (change.address === undefined || change.address === known.address) &&
      (change.clientName === undefined || change.clientName === known.clientName) &&
      now - Date.parse(known.lastSeen) < REFRESH_MS
    )
      return;
    const at = new Date(now).toISOString();
    // A new client name keeps the system until its look-up answers (register_osad renames
    // the same system); key-usage.json never flaps to "unknown" in between.
    this.usage.set(keyName, {
      serverId: known?.serverId ?? null,
      profileName: known?.profileName ?? null,
      clientName: change.clientName ?? known?.clientName ?? null,
      address: change.address ?? known?.address ?? null,
      firstSeen: known?.firstSeen ?? at,
      lastSeen: at,
    });
    this.usageDirty = true;
  }

  private systemOf(
    clientName: string,
  ): Promise<{ serverId: number; profileName: string } | undefined> {
    let lookup = this.systemsByName.get(clientName);
    if (lookup === undefined) {
      lookup = this.options.systems.systemOf(clientName).catch(() => undefined);
      this.systemsByName.set(clientName, lookup);
      // A failed or empty look-up is tried again next time.
      void lookup.then((found) => {
        if (found === undefined) this.systemsByName.delete(clientName);
      });
      if (this.systemsByName.size > MAX_CONNECTIONS) this.dropOldest(this.systemsByName);
    }
    return lookup;
  }

  private dropOldest(map: Map<string, unknown>): void {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
