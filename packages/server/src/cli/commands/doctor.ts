import { diagnoseSystem, doctorExitCode, listManagedSystems } from "../../diagnostics/commands.js";
import { formatDoctorReport } from "../../diagnostics/doctor-format.js";
import { formatSystems } from "../../diagnostics/systems.js";
import type { CliInvocation } from "../args.js";
import type { ServerConfig } from "../../config/schema.js";
import { loadCliConfig } from "./load-config.js";
import { missingForReading } from "./read-only.js";

/** doctor and systems only read: a missing database file or key store is an error, never created. */
export class NothingToReadError extends Error {
  override readonly name = "NothingToReadError";
}

async function readableConfig(invocation: CliInvocation): Promise<ServerConfig> {
  const config = await loadCliConfig(invocation);
  const missing = await missingForReading(config.database, config.certificates);
  const problem = missing.database ?? missing.keys;
  if (problem !== undefined) throw new NothingToReadError(problem);
  return config;
}

/** `osad2-server doctor SYSTEM [--json]`: what to print and the exit code (0, 1, 2). */
export async function doctorCommand(
  invocation: CliInvocation,
): Promise<{ output: string; exitCode: number }> {
  const report = await diagnoseSystem(await readableConfig(invocation), invocation.system ?? "");
  const output = invocation.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : formatDoctorReport(report);
  return { output, exitCode: doctorExitCode(report) };
}

/** `osad2-server systems [--json]`: what to print. */
export async function systemsCommand(invocation: CliInvocation): Promise<string> {
  const report = await listManagedSystems(await readableConfig(invocation));
  return invocation.json ? `${JSON.stringify(report, null, 2)}\n` : formatSystems(report);
}
