export { openStore } from "./store.js";
export { NOTIFY_CHANNEL } from "./types.js";
export {
  DatabaseConfigError,
  DatabaseSchemaError,
  DatabaseUnavailableError,
  SeedError,
} from "./errors.js";
export { parseDatabaseUrl, redact } from "./url.js";
export { NOTIFY_FUNCTION, NOTIFY_TRIGGER } from "./notify-trigger.js";
export { ACTION_TYPES, REBOOT_ACTION_LABEL, TABLES } from "./tables.js";
export type {
  DatabaseKind,
  DueAction,
  ListenEvent,
  ListenOptions,
  PrepareOptions,
  PrepareResult,
  PushClient,
  PushClientState,
  PushDispatcher,
  SpacewalkStore,
  SpacewalkSystem,
  StoreLogger,
  StoreOptions,
} from "./types.js";
export type { DatabaseTarget } from "./url.js";
export { createSystem, scheduleAction, setServerActionStatus } from "./seed.js";
export type {
  CreateSystemOptions,
  ScheduleActionOptions,
  SetServerActionStatusOptions,
} from "./seed.js";
