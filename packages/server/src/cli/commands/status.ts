import { KeyStore } from "@osad2/keys";
import { describeError, pidfileProcess, STATUS_EXIT } from "@osad2/service-kit";
import { openStore, redact } from "../../db/index.js";
import { probe, type HealthReport } from "../../telemetry/health.js";
import type { CliInvocation } from "../args.js";
import { loadCliConfig } from "./load-config.js";
import { missingForReading } from "./read-only.js";

/** What `osad2-server status` prints (JSON). */
export interface StatusReport {
  readonly config: string;
  /** running: the pidfile names a live process, or /healthz answered. */
  readonly running: boolean;
  readonly pid: number | null;
  /** The running server's /healthz, or null when metrics are off or nothing answers. */
  readonly health: HealthReport | null;
  readonly database: {
    readonly url: string;
    readonly ok: boolean;
    readonly error?: string;
    readonly clientsOnline?: number;
  };
  readonly keys:
    { readonly allowed: number; readonly revoked: number } | { readonly error: string };
}

async function fetchHealth(host: string, port: number): Promise<HealthReport | null> {
  const target =
    host === "*" || host === "0.0.0.0" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  try {
    const response = await fetch(`http://${target}:${port}/healthz`, {
      signal: AbortSignal.timeout(3_000),
    });
    return (await response.json()) as HealthReport;
  } catch {
    return null;
  }
}

/**
 * `osad2-server status`: the server's health, the database and the key store, as one JSON
 * object. Creates nothing: a missing database file or key store is reported as such.
 */
export async function statusCommand(
  invocation: CliInvocation,
): Promise<{ report: StatusReport; exitCode: number }> {
  const config = await loadCliConfig(invocation);
  const pid =
    config.pidfile === ""
      ? { pid: undefined, running: false }
      : await pidfileProcess(config.pidfile, { program: "osad2-server" });
  const health =
    config.metricsPort === 0 ? null : await fetchHealth(config.metricsBind, config.metricsPort);

  let database: StatusReport["database"] = { url: redact(config.database), ok: false };
  const missing = await missingForReading(config.database, config.certificates);
  try {
    if (missing.database !== undefined) throw new Error(missing.database);
    const store = await openStore(
      config.database,
      config.databaseSchema === "" ? {} : { schema: config.databaseSchema },
    );
    try {
      let online: number | undefined;
      const problem = await probe(async () => {
        online = (await store.onlineClientNames()).length;
      });
      database =
        problem === undefined
          ? { ...database, ok: true, clientsOnline: online ?? 0 }
          : { ...database, error: problem };
    } finally {
      await store.close();
    }
  } catch (error) {
    database = { ...database, error: describeError(error) };
  }

  let keys: StatusReport["keys"];
  try {
    if (missing.keys !== undefined) throw new Error(missing.keys);
    const store = await KeyStore.open(config.certificates, { pollIntervalMs: 0, fsWatch: false });
    keys = { allowed: store.list().length, revoked: store.listRevoked().length };
    await store.close();
  } catch (error) {
    keys = { error: describeError(error) };
  }

  const running = pid.running || health !== null;
  const report: StatusReport = {
    config: invocation.configPath,
    running,
    pid: pid.pid ?? null,
    health,
    database,
    keys,
  };
  const exitCode = !running
    ? STATUS_EXIT.notRunning
    : health?.healthy === true || (health === null && database.ok)
      ? STATUS_EXIT.healthy
      : STATUS_EXIT.unhealthy;
  return { report, exitCode };
}
