export { openStore } from "./store.js";
export { NOTIFY_CHANNEL } from "./types.js";
export { DatabaseConfigError, DatabaseSchemaError, DatabaseUnavailableError } from "./errors.js";
export { isUnavailable } from "./connection.js";
export { parseDatabaseUrl, redact } from "./url.js";
export { NOTIFY_FUNCTION, NOTIFY_TRIGGER } from "./notify-trigger.js";
export { ACTION_TYPES, REBOOT_ACTION_LABEL, TABLES } from "./tables.js";
export { diagnosisStore } from "./diagnosis-queries.js";
export type {
  ActionStatus,
  DiagnosisStore,
  PendingAction,
  SystemRecord,
} from "./diagnosis-queries.js";
export type {
  DatabaseKind,
  DueAction,
  DueActionsOptions,
  NextEarliestOptions,
  PrepareOptions,
  PrepareResult,
  PushClient,
  PushClientState,
  PushDispatcher,
  SpacewalkStore,
  SpacewalkSystem,
  StoreLogger,
  StoreOptions,
  WakeUpConnectionEvent,
  WakeUpHandler,
  WakeUpMode,
} from "./types.js";
export type { DatabaseTarget } from "./url.js";
