import { changedFields } from "@osad2/service-kit";
import { SERVER_CONFIG, type ServerConfig } from "./schema.js";

/** Settings a running server can take over on reload (SIGHUP); the rest need a restart. */
export const RELOADABLE_FIELDS: ReadonlySet<keyof ServerConfig> = new Set<keyof ServerConfig>([
  "pingInterval",
  "actionPollInterval",
  "notifyThreshold",
  "debug",
  "renotifyInterval",
  "renotifyPickedUp",
  "missedPings",
  "lastMessageRefresh",
  "allowUnsignedClients",
]);

/** What a reload changes: the configuration to run with now, and what waits for a restart. */
export interface ReloadPlan {
  /** `current` with the reloadable changes of `next` taken over. */
  readonly config: ServerConfig;
  readonly applied: readonly (keyof ServerConfig)[];
  readonly restartNeeded: readonly (keyof ServerConfig)[];
}

/** Splits the differences between the running and a new configuration. */
export function planReload(current: ServerConfig, next: ServerConfig): ReloadPlan {
  const changed = changedFields(SERVER_CONFIG, current, next);
  const applied = changed.filter((field) => RELOADABLE_FIELDS.has(field));
  const restartNeeded = changed.filter((field) => !RELOADABLE_FIELDS.has(field));
  const merged: Record<string, unknown> = { ...current };
  for (const field of applied) merged[field] = next[field];
  return { config: merged as unknown as ServerConfig, applied, restartNeeded };
}
