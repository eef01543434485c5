// Temp dirs, ports, waitFor and test databases come from @osad2/test-helpers, not from here.
export { startProcess, startCli, cliPath, run } from "./process.js";
export { writeRecorderScript, readRuns, countByLabel } from "./recorder.js";
export { iniSection } from "./ini.js";
export { Deployment } from "./deployment.js";
export { ProxyHost } from "./proxy-host.js";
export { SimPool } from "./sim/pool.js";
export { SimFleet, simClientsBinPath, DEFAULT_CLIENTS_PER_PROCESS } from "./sim/fleet.js";
export { parseSimSpec, DEFAULT_CONNECT_BATCH, SOCKETS_PER_SIM_CLIENT } from "./sim/spec.js";
export { parseSimEvent } from "./sim/events.js";
export { createSimSystems } from "./sim/register.js";
export { ActionCompleter } from "./sim/completer.js";
export { SimSpecError, SimProcessError, SimRegistrationError } from "./sim/errors.js";
export { retryBusy } from "./sim/retry.js";

export type { ManagedProcess, StartOptions } from "./process.js";
export type { RecordedRun } from "./recorder.js";
export type { ProxyHostOptions } from "./proxy-host.js";
export type {
  DeploymentOptions,
  SystemHandle,
  DatabaseChoice,
  PushClientRow,
} from "./deployment.js";
export type { SimSpec, SimIdentity, ResolvedSimSpec } from "./sim/spec.js";
export type { SimEvent, SimEventType, SimCounts } from "./sim/events.js";
export type { SimFleetOptions } from "./sim/fleet.js";
export type { SimSystem, SimSystemsOptions, SimRegistrationMethod } from "./sim/register.js";
export type { CompleterTarget } from "./sim/completer.js";
