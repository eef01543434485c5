// The public surface of @osad2/client: the library. The service is createClient + loadConfig;
// its parts (Executor, Registrar, Subscriber, registerOsad) are usable on their own. The CLI's
// internals (argument parsing, commands) are not part of it.
export { createClient, DEFAULT_STOP_GRACE_MS } from "./client.js";
export { loadConfig, loadStateFilePath, deriveConfig } from "./config.js";
export {
  CLIENT_CONFIG,
  CONFIG_SCHEMA,
  CONFIG_SECTION,
  DEFAULT_CONFIG_PATH,
  LEGACY_KEYS,
} from "./config-schema.js";
export { ConfigError, PidfileError } from "@osad2/service-kit";
export {
  ClientError,
  KeyConfigError,
  RegistrationError,
  RegistrationFault,
  StateFileError,
} from "./errors.js";
export {
  Executor,
  succeeded,
  DEFAULT_RHN_CHECK_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_KILL_GRACE_MS,
  RHN_CHECK_UMASK,
  STDERR_TAIL_BYTES,
} from "./executor.js";
export {
  registerOsad,
  readSystemId,
  parseReply,
  resolveEndpoints,
  DEFAULT_REGISTRATION_TIMEOUT_MS,
  MAX_REPLY_BYTES,
  REGISTER_METHOD,
} from "./registration.js";
export {
  Registrar,
  DEFAULT_REGISTRY_INTERVAL_MS,
  DEFAULT_SYSTEMID_POLL_MS,
  REGISTRY_JITTER,
} from "./registrar.js";
export {
  SubprocessRegistration,
  inProcessRegistration,
  SUBPROCESS_GRACE_MS,
} from "./registration-subprocess.js";
export { Subscriber, AUTH_RETRY_JITTER, AUTH_RETRY_MAX_MS } from "./subscriber.js";
export { loadClientKeys } from "./keyfiles.js";
export { parseUp2date, readUp2date, DEFAULT_UP2DATE_PATH } from "./up2date.js";
export { readStateFile, STATE_FILE_MODE } from "./state.js";
export { CLIENT_VERSION } from "./version.js";

export type { OsadClient, ClientOptions, ClientEvents } from "./client.js";
export type { ClientConfig, ConfigOverrides, LoadConfigOptions } from "./config.js";
export type { ConfigKey, ConfigValues } from "./config-schema.js";
export type { KeyConfigReason, RegistrationErrorReason, StateFileProblem } from "./errors.js";
export type { ExecutorOptions, ExecutorEvents, RunRecord, RunTrigger } from "./executor.js";
export type {
  RegisterOptions,
  RegistrationReply,
  Endpoints,
  EndpointSettings,
  EndpointSource,
  ServerEndpoints,
} from "./registration.js";
export type { RegistrarOptions, RegistrarEvents } from "./registrar.js";
export type {
  RegistrationTransport,
  SubprocessRegistrationOptions,
} from "./registration-subprocess.js";
export type {
  SubscriberOptions,
  SubscriberEvents,
  AuthFailure,
  HandshakeFailureEvent,
} from "./subscriber.js";
export type { ClientKeys } from "./keyfiles.js";
export type { Up2dateSettings } from "./up2date.js";
export type { ClientStatus, ClientState, RunSummary } from "./state.js";
