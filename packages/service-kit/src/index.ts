// The public surface of @osad2/service-kit: one implementation of each piece of plumbing the
// osad2 server, client and packager share.
export {
  BindError,
  ConfigError,
  PidfileError,
  UnsafeDirectoryError,
  locationPrefix,
} from "./errors.js";
export { errnoCode, describeError, describeSystemError } from "./errno.js";
export { parseIni, DEFAULT_SECTION } from "./ini.js";
export {
  valueTypes,
  parseNumber,
  parseHostList,
  tcpEndpoint,
  NUMBER_SYNTAX,
} from "./value-types.js";
export { splitCommandLine } from "./command-line.js";
export { defineConfig, camelCase, flagName, defaultText } from "./config-schema.js";
export { resolveConfig, defaultConfig, normalizeConfig, changedFields } from "./config-resolve.js";
export { loadConfig, readIniFile } from "./config-load.js";
export { addConfigOptions, configFlagValues } from "./config-flags.js";
export { configDocsTable } from "./config-docs.js";
export { createLogger, silentLogger, logDrops, LOG_FILE_MODE, LOG_DIR_MODE } from "./logger.js";
export { LogFileSink, DEFAULT_LOG_BUFFER_BYTES, DEFAULT_LOG_RETRY_MS } from "./log-sink.js";
export {
  LogRateLimiter,
  RepeatedLineFilter,
  DEFAULT_REPEATS_PER_WINDOW,
  DEFAULT_LINES_PER_WINDOW,
  DEFAULT_REPEAT_WINDOW_MS,
} from "./log-rate-limiter.js";
export { exitOnFatalErrors } from "./fatal.js";
export { runService, runUntilSignalled } from "./run-service.js";
export {
  acquirePidfile,
  readPidfile,
  pidfileProcess,
  PIDFILE_MODE,
  PIDFILE_DIR_MODE,
} from "./pidfile.js";
export { processAlive, runsProgram } from "./process-check.js";
export {
  ensureDirectory,
  ensureDirectorySync,
  assertNotGroupOrWorldWritable,
} from "./file-modes.js";
export { backoffDelay, BACKOFF_DEFAULTS } from "./backoff.js";
export {
  assertDetachable,
  detach,
  detachedReady,
  withDefaultCommand,
  withoutDetachFlag,
  DetachError,
  DEFAULT_DETACH_TIMEOUT_MS,
} from "./detach.js";
export {
  writeFileAtomic,
  copyFileAtomic,
  temporarySibling,
  syncDirectory,
} from "./atomic-write.js";
export {
  EXIT_OK,
  EXIT_FAILURE,
  EXIT_USAGE,
  STATUS_EXIT,
  parseCommandLine,
  printParseExit,
  runCli,
  exitCodeFor,
} from "./cli.js";

export type { ConfigLocation, PidfileProblem } from "./errors.js";
export type { IniDocument, IniEntry, IniSection } from "./ini.js";
export type { ValueType, HostPort } from "./value-types.js";
export type {
  KeySpec,
  ConfigSchema,
  ConfigDefinition,
  ConfigValues,
  CamelCase,
  ValueOf,
} from "./config-schema.js";
export type { ConfigSources } from "./config-resolve.js";
export type { LoadConfigOptions, LoadedConfig } from "./config-load.js";
export type { LoggerOptions, ServiceLogger, Logger } from "./logger.js";
export type { LogDrops, LogFileSinkOptions } from "./log-sink.js";
export type { RepeatLimits, SuppressedLines } from "./log-rate-limiter.js";
export type { FatalLog } from "./fatal.js";
export type {
  RunServiceOptions,
  RunnableService,
  RunUntilSignalledOptions,
  StoppableService,
  HangupHandler,
} from "./run-service.js";
export type { PidfileOptions, PidfileHolder, ReleasePidfile } from "./pidfile.js";
export type { BackoffOptions } from "./backoff.js";
export type { DetachOptions, DetachFailure, DetachableConfig } from "./detach.js";
export type { AtomicWriteOptions } from "./atomic-write.js";
export type { CliParseResult, RecordCommand, RunCliOptions, ErrorClass } from "./cli.js";
export { describeProgram } from "./cli-docs/model.js";
export { renderManPage, roffText } from "./cli-docs/man-page.js";
export { renderBashCompletion, completionFunctionName } from "./cli-docs/bash-completion.js";
export { writeCliDocs, docsDate } from "./cli-docs/write.js";
export type { CommandDoc, OptionDoc, ArgumentDoc } from "./cli-docs/model.js";
export type { ManPageInfo } from "./cli-docs/man-page.js";
export type { CliDocs, WrittenCliDocs } from "./cli-docs/write.js";
