// The public surface of @osad2/client. The service: createClient + loadConfig; its parts
// (Executor, Registrar, Subscriber, registerOsad) are usable on their own.
export { createClient, DEFAULT_STOP_GRACE_MS } from "./client.js";
export {
  ClientError,
  ConfigError,
  KeyConfigError,
  RegistrationError,
  RegistrationFault,
  PidfileError,
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
  REGISTER_METHOD,
} from "./registration.js";
export {
  Registrar,
  DEFAULT_REGISTRY_INTERVAL_MS,
  DEFAULT_SYSTEMID_POLL_MS,
  REGISTRY_JITTER,
} from "./registrar.js";
export { loadClientKeys } from "./keyfiles.js";
export {
  loadConfig,
  readConfigFile,
  parseConfigValues,
  resolveConfig,
  splitCommand,
} from "./config.js";
export {
  CONFIG_SCHEMA,
  CONFIG_SECTION,
  DEFAULT_CONFIG_PATH,
  LEGACY_KEYS,
  camelCase,
  flagName,
} from "./config-schema.js";
export { parseUp2date, readUp2date, DEFAULT_UP2DATE_PATH } from "./up2date.js";
export { parseIni } from "./ini-file.js";
export { createLogger, silentLogger } from "./logger.js";
export { Subscriber } from "./subscriber.js";
export { readStateFile, writeStateFile, summarizeRun } from "./state.js";
export { acquirePidfile, processAlive } from "./pidfile.js";
export { parseCliArgs, buildProgram } from "./cli-args.js";
export { CLIENT_VERSION } from "./version.js";

export type { KeyConfigReason, RegistrationErrorReason } from "./errors.js";
export type { ExecutorOptions, ExecutorEvents, RunRecord, RunTrigger } from "./executor.js";
export type { RegisterOptions, RegistrationReply, Endpoints } from "./registration.js";
export type { RegistrarOptions, RegistrarEvents } from "./registrar.js";
export type { ClientKeys } from "./keyfiles.js";
export type { ClientConfig, ConfigOverrides, LoadConfigOptions } from "./config.js";
export type { ConfigKey, ConfigValues, KeySpec, ValueType } from "./config-schema.js";
export type { Up2dateSettings } from "./up2date.js";
export type { IniDocument, IniSection } from "./ini-file.js";
export type { LoggerOptions } from "./logger.js";
export type {
  SubscriberOptions,
  SubscriberEvents,
  AuthFailure,
  HandshakeFailureEvent,
} from "./subscriber.js";
export type { OsadClient, ClientOptions, ClientEvents } from "./client.js";
export type { ClientStatus, ClientState, RunSummary } from "./state.js";
export type { CliArgs, CliCommand, CliParse } from "./cli-args.js";
