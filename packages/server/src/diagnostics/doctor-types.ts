import type { LiveConnection, LiveFailure } from "./live-types.js";

/** The links doctor checks, in order. */
export type DoctorLinkName =
  | "system"
  | "push-client"
  | "key"
  | "server"
  | "proxy"
  | "connection"
  | "pong"
  | "subscription"
  | "presence";

/** ok; broken (the chain stops here); unknown (cannot tell, not a failure). */
export type DoctorLinkStatus = "ok" | "broken" | "unknown";

/** One checked link. */
export interface DoctorLink {
  readonly link: DoctorLinkName;
  readonly status: DoctorLinkStatus;
  /** One line a person reads. */
  readonly summary: string;
  /** What to do, for a broken link. */
  readonly fix?: string;
  /** For a broken connection: why, as a code a script can branch on. */
  readonly problem?:
    | "no-push-client"
    | "key-revoked"
    | "key-missing"
    | "server-not-running"
    | "server-standby"
    | "stale-name"
    | "not-connected"
    | "proxy-not-connected"
    | "proxy-connection-cut"
    | "said-goodbye"
    | "silent"
    | "no-pong"
    | "subscription-unproven"
    | "not-online";
}

/** What keeps a queued action from being announced now. */
export type ActionHold =
  | { readonly kind: "earliest-action"; readonly earliestAction: string }
  /** earliest_action holds text SQLite cannot read as a time: never due until corrected. */
  | { readonly kind: "unreadable-earliest-action"; readonly value: string }
  | { readonly kind: "prerequisite"; readonly actionId: number; readonly status: number | null }
  | { readonly kind: "reboot-in-progress"; readonly actionId: number }
  | {
      readonly kind: "throttle";
      /** Systems with a picked-up action (all systems). */
      readonly running: number;
      /** Systems asked to check in and not done yet. */
      readonly asked: number;
      readonly notifyThreshold: number;
    }
  /** Status 1 and renotify_picked_up = 0: rhn_check has it; osad2 waits for it to complete. */
  | { readonly kind: "picked-up"; readonly pickupTime: string | null }
  /** Not due by the server's query, for none of the reasons above (e.g. no push client). */
  | { readonly kind: "not-due" };

/** One queued (0) or picked-up (1) action of the system. */
export interface DoctorAction {
  readonly actionId: number;
  readonly actionType: string;
  readonly name: string | null;
  readonly status: 0 | 1;
  /** ISO time; null when the stored value cannot be read (see heldBy). */
  readonly earliestAction: string | null;
  /** Due by the dispatcher's own query (SpacewalkStore.dueActions). */
  readonly due: boolean;
  /** What holds it; null when it is due and nothing holds it. */
  readonly heldBy: ActionHold | null;
}

/** Whether rhn_check picked up what the last checkin announced. */
export interface DoctorPickup {
  readonly actionId: number;
  /** rhnServerAction.status now (null: the row is gone). */
  readonly status: number | null;
  readonly pickedUp: boolean;
  readonly pickupTime: string | null;
}

/** What `osad2-server doctor SYSTEM --json` prints. */
export interface DoctorReport {
  readonly reference: string;
  /** pushable (exit 0), not-pushable (exit 1), unknown-system (exit 2). */
  readonly verdict: "pushable" | "not-pushable" | "unknown-system";
  /** For unknown-system: why (no match, or several systems). */
  readonly message?: string;
  readonly system: { readonly serverId: number; readonly profileName: string } | null;
  readonly pushClient: {
    readonly name: string;
    readonly state: "online" | "offline";
    readonly lastMessageTime: string | null;
    readonly modified: string | null;
  } | null;
  readonly key: {
    readonly name: string;
    readonly path: string | null;
    readonly revoked: boolean;
    readonly lastSeen: string | null;
    readonly address: string | null;
  } | null;
  readonly serverRunning: boolean;
  /** The connection judged (the system's own, or the one its key speaks on). */
  readonly connection: LiveConnection | null;
  readonly links: readonly DoctorLink[];
  /** The first broken link, or null. */
  readonly broken: DoctorLinkName | null;
  readonly actions: readonly DoctorAction[];
  readonly lastNotification: {
    readonly at: string;
    readonly clientName: string;
    readonly actionIds: readonly number[];
    readonly pickups: readonly DoctorPickup[];
  } | null;
  /** Recent refused handshakes and messages for this system's key, address or names. */
  readonly failures: readonly LiveFailure[];
}
