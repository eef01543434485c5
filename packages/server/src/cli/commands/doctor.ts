import { openStore } from "../../db/index.js";
import { diagnose } from "../../diagnostics/doctor.js";
import { formatDoctorReport } from "../../diagnostics/doctor-format.js";
import type { DoctorReport } from "../../diagnostics/doctor-types.js";
import { withDiagnosisSources } from "../../diagnostics/sources.js";
import { listSystems, formatSystems, type SystemsReport } from "../../diagnostics/systems.js";
import type { CliInvocation } from "../args.js";
import { loadCliConfig } from "./load-config.js";

/** doctor's exit codes. */
export const DOCTOR_EXIT = { pushable: 0, notPushable: 1, unknownSystem: 2 } as const;

async function withStore<T>(
  invocation: CliInvocation,
  use: Parameters<typeof withDiagnosisSources<T>>[2],
): Promise<T> {
  const config = await loadCliConfig(invocation);
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

/** `osad2-server doctor SYSTEM [--json]`: the report, its text or JSON, and the exit code. */
export async function doctorCommand(
  invocation: CliInvocation,
): Promise<{ report: DoctorReport; output: string; exitCode: number }> {
  const reference = invocation.system ?? "";
  const report = await withStore(invocation, (sources) => diagnose(sources, reference));
  const exitCode =
    report.verdict === "pushable"
      ? DOCTOR_EXIT.pushable
      : report.verdict === "not-pushable"
        ? DOCTOR_EXIT.notPushable
        : DOCTOR_EXIT.unknownSystem;
  const output = invocation.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : formatDoctorReport(report);
  return { report, output, exitCode };
}

/** `osad2-server systems [--json]`. */
export async function systemsCommand(
  invocation: CliInvocation,
): Promise<{ report: SystemsReport; output: string }> {
  const report = await withStore(invocation, async (_doctor, systems) =>
    listSystems(await systems()),
  );
  const output = invocation.json ? `${JSON.stringify(report, null, 2)}\n` : formatSystems(report);
  return { report, output };
}
