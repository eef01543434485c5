/** The store calls presence makes. */
export interface PresenceStore {
  /** state online, last_message_time = at, ping times cleared; true when it was offline before. */
  markOnline(name: string, at: Date): Promise<boolean>;
  markOffline(names: readonly string[]): Promise<void>;
  onlineClientNames(): Promise<string[]>;
  /** Web UI "ping system": online clients with last_ping_time set and next_action_time null. */
  requestedPings(): Promise<string[]>;
  setPingDeadline(name: string, deadline: Date): Promise<void>;
  /** Online clients whose web-UI ping deadline (next_action_time) has passed. */
  expiredPingDeadlines(now: Date): Promise<string[]>;
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
