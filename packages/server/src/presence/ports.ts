import type { SpacewalkStore } from "../db/types.js";

/** The store calls presence makes (the database layer documents each). */
export type PresenceStore = Pick<
  SpacewalkStore,
  | "markManyOnline"
  | "markOffline"
  | "refreshMessageTimes"
  | "onlineClientNames"
  | "requestedPings"
  | "setPingDeadline"
  | "expiredPingDeadlines"
>;

/** What the managed set asks the database: which names still have a row (pruning). */
export type ManagedClientsStore = Pick<SpacewalkStore, "existingClientNames">;

/** Where the managed set is kept across restarts (a file in state_dir). */
export interface ManagedClientsFile {
  /** For messages: where it lives. */
  readonly path: string;
  /** The names saved last; none when there is no file yet. Throws when it cannot be read or parsed. */
  load(): Promise<string[]>;
  /** Replaces the saved names, atomically. */
  save(names: readonly string[]): Promise<void>;
}

/** Which push clients this server manages (reads of {@link ManagedClients}). */
export interface ManagedView {
  isManaged(clientName: string): boolean;
}

/** Who is online in rhnPushClient as presence sees it (read by the dispatcher). */
export interface OnlineView {
  isOnline(clientName: string): boolean;
}

/** What presence tells the dispatcher about clients, as it happens. */
export interface PresenceSink {
  /** A hello (the client's DEALER (re)connected) or a pong (its SUB received our ping). */
  contact(clientName: string, kind: "hello" | "pong"): void;
  /** Presence counts the client online now; `wasOffline`: rhnPushClient said offline before. */
  online(clientName: string, wasOffline: boolean): void;
  /** These clients went offline (missed pings or the web-UI ping deadline). */
  offline(clientNames: readonly string[]): void;
}

/** What presence reports (telemetry: events, logs, metrics). */
export interface PresenceReport {
  /** rhnPushClient said offline and the client answered: it is online now. */
  cameOnline(clientName: string): void;
  /** These clients went offline in rhnPushClient. */
  wentOffline(clientNames: readonly string[]): void;
  /** A presence write or query failed; retried on the next answer or round. */
  presenceFailed(error: unknown): void;
}
