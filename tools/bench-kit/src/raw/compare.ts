// osad2's figure ÷ the raw figure, per bench and database: the "ratio" column of docs/benchmarks.md.
import type { RawResult } from "./raw.js";

/** One compared figure. */
export interface RawRatio {
  readonly database: string;
  readonly figure: string;
  readonly osad2: number | null;
  readonly raw: number;
  /** osad2 / raw, 2 decimals; null when osad2 has no figure (a phase timed out). */
  readonly ratio: number | null;
}

type Figures = Record<string, unknown>;

function ratio(database: string, figure: string, osad2: unknown, raw: number): RawRatio {
  const value = typeof osad2 === "number" && Number.isFinite(osad2) ? osad2 : null;
  return {
    database,
    figure,
    osad2: value,
    raw,
    ratio: value === null || raw <= 0 ? null : Math.round((value / raw) * 100) / 100,
  };
}

/** The figures each bench shares with `raw`. */
export function compareWithRaw(
  bench: string,
  results: readonly unknown[],
  baseline: RawResult,
): RawRatio[] {
  return results.flatMap((result) => {
    const r = result as Figures;
    const database = String(r.database);
    switch (bench) {
      case "fanout":
        return [
          ratio(
            database,
            "mass action: all clients have their checkin (ms)",
            r.allCheckinsMs,
            baseline.fanout.allReceivedMs,
          ),
          ratio(database, "connect: all clients online (ms)", r.onlineMs, baseline.connectMs),
        ];
      case "storm":
        return [
          ratio(
            database,
            "restart: all clients reconnected (ms)",
            r.allReconnectedMs,
            baseline.restart.allReadyMs,
          ),
          ratio(
            database,
            "restart: all served their pending checkin (ms)",
            r.allCheckinsMs,
            baseline.restart.allReadyMs,
          ),
        ];
      case "proxy": {
        const mass = r.massAction as Figures | null | undefined;
        const restart = r.restart as Figures | null | undefined;
        return [
          ratio(database, "through proxies: all clients online (ms)", r.onlineMs, baseline.connectMs),
          ratio(
            database,
            "through proxies: mass action, all clients have their checkin (ms)",
            mass?.allCheckinsMs,
            baseline.fanout.allReceivedMs,
          ),
          ratio(
            database,
            "through proxies: restart, all served their pending checkin (ms)",
            restart?.allCheckinsMs,
            baseline.restart.allReadyMs,
          ),
        ];
      }
      case "footprint": {
        const server = r.server as Figures | undefined;
        return [
          ratio(
            database,
            "server RSS per connected client (KiB)",
            server?.rssPerClientKiB,
            baseline.server.rssPerClientKiB,
          ),
          ratio(
            database,
            "steady state: server CPU with N idle clients pinged (% of a core)",
            server?.cpuPercentWithClients,
            baseline.steady.serverCpuPercent,
          ),
        ];
      }
      default:
        return [];
    }
  });
}
