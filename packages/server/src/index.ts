// The public surface of @osad2/server. Implementations stay internal; seeding for trials and
// tests is the separate entry @osad2/server/testing.
export { createServer, DEFAULT_CATCH_UP_DELAY_MS } from "./server.js";
export {
  defaultServerConfig,
  loadServerConfig,
  normalizeServerConfig,
  resolveServerConfig,
} from "./config/load.js";
export {
  SERVER_CONFIG,
  SERVER_CONFIG_SCHEMA,
  DEFAULT_CONFIG_PATH,
  CONFIG_SECTION,
  DATABASE_ENV,
} from "./config/schema.js";
export { DEFAULT_UI_PING_TIMEOUT_MS } from "./presence/presence.js";
export { ZAP_DOMAIN, ZAP_ENDPOINT } from "./transport/zap.js";
export {
  SocketBindError,
  CurveUnavailableError,
  UnknownClientError,
  ServerStateError,
} from "./errors.js";
// createServer() and the config functions throw the shared base package's ConfigError.
export { ConfigError } from "@osad2/service-kit";
// Database layer (the store the server runs on; a real Spacewalk's or a standalone SQLite file).
export {
  openStore,
  NOTIFY_CHANNEL,
  DatabaseConfigError,
  DatabaseSchemaError,
  DatabaseUnavailableError,
} from "./db/index.js";
export { signSystemId, RegistrationFault } from "./registration/index.js";
// Diagnostics: doctor, systems and the running server's control socket.
export {
  diagnoseSystem,
  listManagedSystems,
  doctorExitCode,
  DOCTOR_EXIT,
} from "./diagnostics/commands.js";
export { formatDoctorReport } from "./diagnostics/doctor-format.js";
export { formatSystems } from "./diagnostics/systems.js";
export {
  fetchLiveState,
  controlSocketPath,
  CONTROL_SOCKET_FILE,
  CONTROL_SOCKET_MODE,
} from "./diagnostics/control-socket.js";
export { ControlSocketError } from "./diagnostics/errors.js";

export type {
  Osad2Server,
  CreateServerOptions,
  ServerEndpoints,
  ServerState,
  ReloadResult,
} from "./server.js";
export type { ServerConfig, ServerConfigKey } from "./config/schema.js";
export type { LoadServerConfigOptions } from "./config/load.js";
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
export type { Logger } from "@osad2/service-kit";
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
export type {
  DoctorReport,
  DoctorLink,
  DoctorLinkName,
  DoctorLinkStatus,
  DoctorAction,
  DoctorPickup,
  ActionHold,
} from "./diagnostics/doctor-types.js";
export type { SystemsReport, SystemRow } from "./diagnostics/systems.js";
export type {
  LiveState,
  LiveConnection,
  LiveFailure,
  LiveNotification,
  LiveSubscriberHandshake,
  KeyAttribution,
} from "./diagnostics/live-types.js";
