import { diagnoseSystem, doctorExitCode, listManagedSystems } from "../../diagnostics/commands.js";
import { formatDoctorReport } from "../../diagnostics/doctor-format.js";
import { formatSystems } from "../../diagnostics/systems.js";
import type { CliInvocation } from "../args.js";
import { loadCliConfig } from "./load-config.js";

/** `osad2-server doctor SYSTEM [--json]`: what to print and the exit code (0, 1, 2). */
export async function doctorCommand(
  invocation: CliInvocation,
): Promise<{ output: string; exitCode: number }> {
  const report = await diagnoseSystem(await loadCliConfig(invocation), invocation.system ?? "");
  const output = invocation.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : formatDoctorReport(report);
  return { output, exitCode: doctorExitCode(report) };
}

/** `osad2-server systems [--json]`: what to print. */
export async function systemsCommand(invocation: CliInvocation): Promise<string> {
  const report = await listManagedSystems(await loadCliConfig(invocation));
  return invocation.json ? `${JSON.stringify(report, null, 2)}\n` : formatSystems(report);
}
