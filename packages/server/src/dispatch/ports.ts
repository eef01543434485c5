import type { DueAction, SpacewalkStore } from "../db/types.js";

/** The store calls the dispatcher makes (the database layer documents each). */
export type DispatchStore = Pick<
  SpacewalkStore,
  "dueActions" | "nextEarliestAction" | "findClient" | "runningSystems"
>;

/** What one published checkin announced (the payload of the server's 'notified' event). */
export interface NotifiedEvent {
  readonly clientName: string;
  readonly serverId: number;
  readonly actionIds: readonly number[];
}

/** The answer of {@link Notifier.notify}. */
export interface NotifyResult {
  /** False only when a server id was given and that system has no due work (so no client name is known). */
  readonly published: boolean;
  readonly clientName: string | null;
  readonly serverId: number | null;
  /** Due actions the checkin covers (may be empty when notifying a client by name). */
  readonly actionIds: readonly number[];
}

/** What the dispatcher reports (telemetry: metrics, events, logs). */
export interface DispatchReport {
  /** A checkin went out at `at`; `firstTime` are the actions announced for the first time. */
  published(event: NotifiedEvent, firstTime: readonly DueAction[], at: Date): void;
  /** A round failed (the database); the dispatcher retries with back-off by itself. */
  roundFailed(error: unknown): void;
}
