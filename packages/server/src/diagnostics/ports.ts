import type { KeyUsage } from "@osad2/keys";
import type { PendingAction, ActionStatus, SystemRecord } from "../db/diagnosis-queries.js";
import type { DueAction } from "../db/types.js";
import type { LiveState } from "./live-types.js";

/** The name of a client key file (public_keys/NAME.key or revoked/…), by its public key. */
export interface KeyNames {
  nameOf(publicKeyZ85: string): string | null;
}

/** Which system a push client name belongs to (rhnPushClient → rhnServer). */
export interface ClientSystems {
  systemOf(clientName: string): Promise<{ serverId: number; profileName: string } | undefined>;
}

/** A client key file as the key store has it. */
export interface KeyFile {
  readonly name: string;
  readonly publicKey: string;
  readonly path: string;
  /** In revoked/ (and not allowed). */
  readonly revoked: boolean;
  /** In retiring/ (re-issued): allowed until this time, then moved to revoked/. */
  readonly retiringUntil?: string;
}

/** What doctor reads from the key store. */
export interface KeyDirectory {
  /** Allowed first, then retiring/, then revoked/ files of this name. */
  byName(name: string): KeyFile | undefined;
  byPublicKey(publicKeyZ85: string): KeyFile | undefined;
}

/** What doctor reads from the database (the server's own queries; see db/diagnosis-queries.ts). */
export interface DoctorDatabase {
  findSystems(reference: string): Promise<SystemRecord[]>;
  systemsById(serverIds: readonly number[]): Promise<SystemRecord[]>;
  pendingActions(serverId: number): Promise<PendingAction[]>;
  actionStatuses(serverId: number, actionIds: readonly number[]): Promise<ActionStatus[]>;
  /** The dispatcher's due query (SpacewalkStore.dueActions) for one push client. */
  dueActions(clientName: string, now: Date, includePickedUp: boolean): Promise<DueAction[]>;
  /** Systems with a picked-up action (the throttle's count). */
  runningSystems(): Promise<number[]>;
}

/** Everything doctor looks at. */
export interface DoctorSources {
  readonly database: DoctorDatabase;
  readonly keys: KeyDirectory;
  /** key-usage.json (key name → what the server last saw of it). */
  readonly usage: ReadonlyMap<string, KeyUsage>;
  /** The running server's state, or null when no server answers on the control socket. */
  readonly live: LiveState | null;
  /** Configuration used when the server is not running. */
  readonly settings: LiveState["settings"];
  readonly now: Date;
}
