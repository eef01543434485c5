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

/** An action announced for the first time, and since when it could have been pushed. */
export interface FirstAnnouncement {
  readonly action: DueAction;
  /**
   * The latest of rhnAction.created (scheduled), earliest_action (a future schedule waits for
   * it) and when the client connected to this server (a system that was away waited for
   * itself, not for osad2).
   */
  readonly pushableSince: Date;
}

/** What one dispatcher round found (see ServerMetrics' work gauges). */
export interface RoundSummary {
  /** Due actions of the clients the round asked about (heard from and online). */
  readonly dueActions: number;
  /** Systems with due work the throttle held back. */
  readonly throttledSystems: number;
  /** Systems asked to check in whose due work is still queued (status 0, not picked up). */
  readonly inFlightSystems: number;
}

/** What the dispatcher reports (telemetry: metrics, events, logs). */
export interface DispatchReport {
  /**
   * A checkin went out at `at`; `firstTime` are the actions announced for the first time by
   * this process (once per system and action, whatever renames and reconnections follow).
   */
  published(event: NotifiedEvent, firstTime: readonly FirstAnnouncement[], at: Date): void;
  /** A round completed. */
  roundCompleted(summary: RoundSummary): void;
  /** A round failed (the database); the dispatcher retries with back-off by itself. */
  roundFailed(error: unknown): void;
}
