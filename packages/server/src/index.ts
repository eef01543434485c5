// The public surface of @osad2/server. Implementations stay internal; seeding for trials and
// tests is the separate entry @osad2/server/testing.
export { createServer, DEFAULT_CATCH_UP_DELAY_MS } from "./server.js";
export {
  DEFAULT_CONFIG_PATH,
  CONFIG_SECTION,
  DATABASE_ENV,
  defaultServerConfig,
  normalizeServerConfig,
  parseConfigText,
  readConfigFile,
  resolveServerConfig,
} from "./config/load.js";
export { SERVER_CONFIG_SCHEMA, flagName } from "./config/schema.js";
export { DEFAULT_UI_PING_TIMEOUT_MS } from "./presence/presence.js";
export { ZAP_DOMAIN, ZAP_ENDPOINT } from "./transport/zap.js";
export { createLogger } from "./logger.js";
export {
  ConfigError,
  ConfigFileError,
  SocketBindError,
  CurveUnavailableError,
  UnknownClientError,
  ServerStateError,
  PidfileError,
} from "./errors.js";
// Database layer (the store the server runs on; a real Spacewalk's or a standalone SQLite file).
export {
  openStore,
  NOTIFY_CHANNEL,
  DatabaseConfigError,
  DatabaseSchemaError,
  DatabaseUnavailableError,
} from "./db/index.js";
export { signSystemId, RegistrationFault } from "./registration/index.js";

export type {
  Osad2Server,
  CreateServerOptions,
  ServerEndpoints,
  ServerState,
  ReloadResult,
} from "./server.js";
export type { ServerConfig, ConfigKeySpec } from "./config/schema.js";
export type { ConfigFileValues, ConfigSources } from "./config/load.js";
export type {
  ServerEvents,
  ServerEventName,
  ServerEventHandler,
  AuthFailureEvent,
  DbErrorEvent,
} from "./telemetry/events.js";
export type { NotifiedEvent, NotifyResult } from "./dispatch/ports.js";
export type { HealthReport } from "./telemetry/health.js";
export type { SocketState } from "./transport/sockets.js";
export type { LoggerOptions, ServerLogger, Logger } from "./logger.js";
export type {
  DatabaseKind,
  DueAction,
  PrepareOptions,
  PrepareResult,
  PushClient,
  PushClientState,
  SpacewalkStore,
  SpacewalkSystem,
  StoreOptions,
  WakeUpConnectionEvent,
  WakeUpHandler,
} from "./db/index.js";
export type { SystemIdFields, SignOptions, RegistrationFaultReason } from "./registration/index.js";
