export {
  ClientError,
  ConfigError,
  KeyConfigError,
  RegistrationError,
  RegistrationFault,
  ExecutorError,
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

export type { KeyConfigReason, RegistrationErrorReason } from "./errors.js";
export type { ExecutorOptions, ExecutorEvents, RunRecord, RunTrigger } from "./executor.js";
