export { freePort, freePorts } from "./ports.js";
export { waitFor, sleep } from "./wait.js";
export { tempDir } from "./tempdir.js";
export { createTestSchema, POSTGRES_URL } from "./postgres.js";
export { startProcess, startCli, cliPath, run } from "./process.js";
export { writeRecorderScript, readRuns, countByLabel } from "./recorder.js";
export { iniSection } from "./ini.js";
export { Deployment } from "./deployment.js";

export type { TestSchema } from "./postgres.js";
export type { ManagedProcess, StartOptions } from "./process.js";
export type { RecordedRun } from "./recorder.js";
export type {
  DeploymentOptions,
  SystemHandle,
  DatabaseChoice,
  PushClientRow,
} from "./deployment.js";
