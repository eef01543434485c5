// The public surface of @osad2/server. Implementations stay internal.
export { createServer } from "./server.js";
export {
  DEFAULT_CONFIG_PATH,
  CONFIG_SECTION,
  DATABASE_ENV,
  defaultServerConfig,
  normalizeServerConfig,
  parseConfigText,
  readConfigFile,
  resolveServerConfig,
} from "./config.js";
export { SERVER_CONFIG_SCHEMA, flagName } from "./config-schema.js";
export { DEFAULT_UI_PING_TIMEOUT_MS } from "./presence.js";
export { ZAP_DOMAIN, ZAP_ENDPOINT } from "./zmq/zap.js";
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
// Database layer (server-db helper); the seeding calls are for standalone trials and tests.
export {
  openStore,
  NOTIFY_CHANNEL,
  DatabaseConfigError,
  DatabaseSchemaError,
  DatabaseUnavailableError,
  SeedError,
  createSystem,
  scheduleAction,
  setServerActionStatus,
} from "./db/index.js";
export { signSystemId, RegistrationFault } from "./registration/index.js";

export type {
  Osad2Server,
  CreateServerOptions,
  ServerEndpoints,
  ServerState,
  ReloadResult,
} from "./server.js";
export type { ServerConfig, ConfigKeySpec } from "./config-schema.js";
export type { ConfigFileValues, ConfigSources } from "./config.js";
export type {
  ServerEvents,
  ServerEventName,
  ServerEventListener,
  AuthFailureEvent,
  DbErrorEvent,
} from "./events.js";
export type { NotifiedEvent, NotifyResult } from "./notifier.js";
export type { HealthReport } from "./health.js";
export type { SocketState } from "./zmq/sockets.js";
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
  CreateSystemOptions,
  ScheduleActionOptions,
  SetServerActionStatusOptions,
} from "./db/index.js";
export type { SystemIdFields, SignOptions, RegistrationFaultReason } from "./registration/index.js";
