import type { ServerConfig } from "../config/schema.js";
import { openStore } from "../db/index.js";
import { diagnose } from "./doctor.js";
import type { DoctorReport } from "./doctor-types.js";
import { withDiagnosisSources } from "./sources.js";
import { listSystems, type SystemsReport } from "./systems.js";

/** doctor's exit codes: the chain is intact, a link is broken, no such system (or several). */
export const DOCTOR_EXIT = { pushable: 0, notPushable: 1, unknownSystem: 2 } as const;

async function withStore<T>(
  config: ServerConfig,
  use: Parameters<typeof withDiagnosisSources<T>>[2],
): Promise<T> {
  const store = await openStore(
    config.database,
    config.databaseSchema === "" ? {} : { schema: config.databaseSchema },
  );
  try {
    return await withDiagnosisSources(config, store, use);
  } finally {
    await store.close();
  }
}

/**
 * Whether the server configured by `config` can push to a system now: the database, the key
 * store, key-usage.json and, when the server runs, its control socket. Reads only.
 */
export function diagnoseSystem(config: ServerConfig, reference: string): Promise<DoctorReport> {
  return withStore(config, (sources) => diagnose(sources, reference));
}

/** The systems the server configured by `config` manages, one row each. Reads only. */
export function listManagedSystems(config: ServerConfig): Promise<SystemsReport> {
  return withStore(config, async (_doctor, systems) => listSystems(await systems()));
}

/** The exit code of a doctor report. */
export function doctorExitCode(report: DoctorReport): number {
  return report.verdict === "pushable"
    ? DOCTOR_EXIT.pushable
    : report.verdict === "not-pushable"
      ? DOCTOR_EXIT.notPushable
      : DOCTOR_EXIT.unknownSystem;
}
