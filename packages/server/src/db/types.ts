/**
 * Public types of the database layer: the subset of Spacewalk's schema osad2
 * reads and writes, seen through one store interface that works the same on
 * PostgreSQL (a real Spacewalk database) and SQLite (standalone trials).
 */

import type { DatabaseUnavailableError } from "./errors.js";

/** Which engine a store talks to. */
export type DatabaseKind = "sqlite" | "postgres";

/** One rhnServerAction row that is due, joined to the system's push client. */
export interface DueAction {
  readonly serverId: number;
  readonly actionId: number;
  readonly clientName: string;
  readonly status: 0 | 1;
  readonly earliestAction: Date;
  /** rhnAction.created: when it was scheduled (timestamptz on Spacewalk, ISO UTC text on SQLite). */
  readonly created: Date;
  readonly actionType: string;
}

/** rhnPushClientState labels, as Spacewalk spells them. */
export type PushClientState = "online" | "offline";

/** One rhnPushClient row. */
export interface PushClient {
  readonly id: number;
  readonly name: string;
  readonly serverId: number;
  readonly state: PushClientState;
  readonly lastMessageTime: Date | null;
  readonly lastPingTime: Date | null;
  readonly nextActionTime: Date | null;
}

/** The rhnServer columns osad2 needs. */
export interface SpacewalkSystem {
  readonly id: number;
  readonly digitalServerId: string;
  readonly name: string;
  readonly secret: string;
}

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** PostgreSQL search_path (schema holding the Spacewalk tables). Default: the server's default. */
  readonly schema?: string;
  /** Maximum pooled connections. Default: 4 on PostgreSQL, 1 on SQLite. */
  readonly poolMax?: number;
  /** Receives the database driver's own warnings (dropped idle connections, retries). Default: discarded. */
  readonly logger?: StoreLogger;
}

/** Where driver warnings go; a pino logger fits. */
export interface StoreLogger {
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** Options of {@link SpacewalkStore.prepare}. */
export interface PrepareOptions {
  /**
   * Install the PostgreSQL trigger that NOTIFYs {@link NOTIFY_CHANNEL} on rhnServerAction
   * insert/update (the only object osad2 adds to a Spacewalk schema). Default false here;
   * `osad2-server init` passes true unless `--no-notify-trigger`.
   */
  readonly notifyTrigger?: boolean;
}

/** Options of {@link SpacewalkStore.nextEarliestAction}. */
export interface NextEarliestOptions {
  /**
   * Only these push clients' systems (rhnPushClient.name); default every push client. The
   * query starts from their server ids, so it costs what they have, not what the table holds.
   */
  readonly clients?: readonly string[];
}

/** Options of {@link SpacewalkStore.dueActions}. */
export interface DueActionsOptions extends NextEarliestOptions {
  /** Picked-up (status 1) actions count as due too (renotify_picked_up). */
  readonly includePickedUp: boolean;
}

/**
 * What prepare() found and did. `schema`: "existing" = a Spacewalk schema osad2 did not create
 * (never altered); "created" = the standalone schema osad2 manages (created now or by an earlier call).
 */
export interface PrepareResult {
  readonly schema: "created" | "existing";
  /** Names of the migrations this call applied (empty when already up to date or "existing"). */
  readonly applied: readonly string[];
  /** Whether the NOTIFY trigger is installed now (always false on SQLite). */
  readonly notifyTrigger: boolean;
}

/** One rhnPushDispatcher row (osa-dispatcher instances; register_osad lists their jabber ids). */
export interface PushDispatcher {
  readonly jabberId: string;
  readonly hostname: string;
}

/** Everything the server does with the database. */
export interface SpacewalkStore {
  readonly kind: DatabaseKind;
  /** Creates the Spacewalk subset (knex migrations) when no Spacewalk tables exist; never alters existing ones. */
  prepare(options?: PrepareOptions): Promise<PrepareResult>;
  /** Osa-dispatcher rules: status 0 (and 1 when includePickedUp), earliest_action <= now, prerequisite
   *  completed (status 2) for that server, joined to rhnPushClient (all, or `clients`); skips servers
   *  with a reboot.reboot action at status 1. Ordered as osa-dispatcher orders: status,
   *  earliest_action, server id (then action id). Reads rhnServerAction by its (server_id, action_id)
   *  key, never by a scan. */
  dueActions(now: Date, options: DueActionsOptions): Promise<DueAction[]>;
  /** The next earliest_action strictly after now among queued actions of push-client systems (all, or `clients`), or null. */
  nextEarliestAction(now: Date, options?: NextEarliestOptions): Promise<Date | null>;
  findClient(name: string): Promise<PushClient | undefined>;
  /** rhnPushClient.shared_key of this client name (signatures of its messages), or undefined. */
  /** Statements sent to the database since the store opened (the steady-state cost, as a metric). */
  readonly statementsSent: number;
  sharedKeyOf(name: string): Promise<string | undefined>;
  /**
   * rhnPushClient.shared_key of each of these names that has a row with a key, in ONE
   * statement however many (the key cache reads thousands of clients' keys at once).
   */
  sharedKeysOf(names: readonly string[]): Promise<Map<string, string>>;
  /** state online, last_message_time = at, last_ping_time and next_action_time cleared. Returns true when it was offline before. */
  markOnline(name: string, at: Date): Promise<boolean>;
  /** markOnline for many clients in two statements however many; returns those that were offline before. */
  markManyOnline(names: readonly string[], at: Date): Promise<string[]>;
  /** These clients' rows that are not offline: state offline, last_ping_time and next_action_time cleared (one statement). */
  markOffline(names: readonly string[]): Promise<void>;
  /** last_message_time = at for all these clients, in ONE statement however many; returns the rows updated. */
  refreshMessageTimes(names: readonly string[], at: Date): Promise<number>;
  /** Which of these client names have an rhnPushClient row (one statement). */
  existingClientNames(names: readonly string[]): Promise<string[]>;
  /** The push client name of this system (rhnPushClient.server_id), or undefined. */
  clientNameOf(serverId: number): Promise<string | undefined>;
  onlineClientNames(): Promise<string[]>;
  /** Web UI "ping system": online clients with last_ping_time set and next_action_time null. */
  requestedPings(): Promise<string[]>;
  setPingDeadline(name: string, deadline: Date): Promise<void>;
  /** Clients with last_ping_time set and next_action_time < now (missed the UI ping deadline). */
  expiredPingDeadlines(now: Date): Promise<string[]>;
  /**
   * The system a systemid's `system_id` names, as Spacewalk finds it: `ID-<digits>` by
   * rhnServer.id (so `ID-01000010000` is 1000010000), anything else by digital_server_id.
   */
  findSystem(systemId: string): Promise<SpacewalkSystem | undefined>;
  /**
   * Systems with a picked-up (status 1) action, of every system: what osa-dispatcher's
   * notify_threshold counts as running (`select distinct server_id … where status = 1`).
   */
  runningSystems(): Promise<number[]>;
  /** An authenticated call is a check-in: rhnServerInfo.checkin = at, checkin_counter + 1. */
  recordCheckin(serverId: number, at: Date): Promise<void>;
  /** register_osad: insert or update the system's rhnPushClient in one transaction (offline, times cleared). */
  registerPushClient(
    serverId: number,
    client: { readonly name: string; readonly sharedKey: string },
  ): Promise<void>;
  /** register_osad_jid: records the system's jabber id (cleared on any other system holding it) and clears
   *  next_action_time and last_ping_time, as Spacewalk does. No push client row → nothing changes. */
  registerPushClientJid(serverId: number, jabberId: string): Promise<void>;
  /** rhnPushDispatcher rows, oldest id first. */
  pushDispatchers(): Promise<PushDispatcher[]>;
  /** Database wake-ups: PostgreSQL LISTEN on NOTIFY_CHANNEL ("osad2_actions") on a dedicated connection
   *  that reconnects by itself; a SQLite file is watched for commits by other connections (any
   *  process); `sqlite::memory:` has none (a no-op). Resolves with the function that stops. */
  subscribeWakeUps(handler: WakeUpHandler): Promise<() => Promise<void>>;
  /** How this database wakes the dispatcher (for the start-up log): whether the NOTIFY trigger is installed. */
  wakeUpMode(): Promise<WakeUpMode>;
  /** A cheap query; rejects with DatabaseUnavailableError when the database cannot be reached. */
  healthCheck(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How a database wakes the dispatcher. `notify`: PostgreSQL LISTEN, instant only when the
 * trigger is installed; `watch`: a SQLite file watched for other processes' commits; `none`:
 * an in-memory SQLite database (only the poll).
 */
export type WakeUpMode =
  | { readonly kind: "notify"; readonly trigger: boolean }
  | { readonly kind: "watch"; readonly file: string }
  | { readonly kind: "none" };

/** What the dedicated wake-up (LISTEN) connection is doing, for logs and health reports. */
export type WakeUpConnectionEvent =
  | { readonly type: "listening"; readonly reconnected: boolean }
  | {
      readonly type: "disconnected";
      readonly error: DatabaseUnavailableError;
      readonly retryInMs: number;
    };

/** Receives the database's wake-ups ({@link SpacewalkStore.subscribeWakeUps}). */
export interface WakeUpHandler {
  /**
   * rhnServerAction changed: the server id of the trigger's NOTIFY payload, or undefined for a
   * payload that is not a number and for the call made after each reconnect (whatever was
   * notified while the connection was down went unheard).
   */
  wakeUp(serverId?: number): void;
  /** The dedicated connection connected or dropped. Optional. */
  connectionChanged?(event: WakeUpConnectionEvent): void;
}

/** PostgreSQL NOTIFY channel of the opt-in rhnServerAction trigger. */
export const NOTIFY_CHANNEL = "osad2_actions";
