/**
 * What simulated clients report: one JSON object per line on an `osad2-sim-clients`
 * process's stdout, or the argument of a {@link SimPool} listener. Times are Unix ms
 * (Date.now() of the reporting process; same machine, same clock as the bench).
 */
export type SimEvent =
  /** Every client of the process has its sockets created and connecting. */
  | {
      readonly type: "started";
      readonly pid: number;
      readonly clients: number;
      readonly at: number;
    }
  /** SUB and DEALER both completed the CURVE handshake; the hello went out. */
  | { readonly type: "connected"; readonly name: string; readonly at: number }
  /** One of the two connections dropped (server gone); the client reconnects by itself. */
  | { readonly type: "disconnected"; readonly name: string; readonly at: number }
  /** The server refused the client's key (ZAP). */
  | { readonly type: "auth-failed"; readonly name: string; readonly at: number }
  /** The server refused the hello (`refused busy` / `stale-nonce`); it is asked for again. */
  | {
      readonly type: "refused";
      readonly name: string;
      readonly reason: "busy" | "stale-nonce";
      readonly at: number;
    }
  /** A ping arrived on the SUB socket (only with the spec's `reportPings`). */
  | { readonly type: "ping"; readonly name: string; readonly at: number }
  /** `system:<name> checkin` arrived on the SUB socket. */
  | { readonly type: "checkin"; readonly name: string; readonly at: number }
  /** The client's rhn_check stand-in ran (startedAt = endedAt when nothing is spawned). */
  | {
      readonly type: "run";
      readonly name: string;
      readonly startedAt: number;
      readonly endedAt: number;
      readonly exitCode: number | null;
    }
  /** Something unexpected (bad frame, spawn failure); the process carries on. */
  | {
      readonly type: "error";
      readonly name?: string;
      readonly message: string;
      readonly at: number;
    }
  /** Sent once after close: counters over the process's life. */
  | {
      readonly type: "stopped";
      readonly pid: number;
      readonly counts: SimCounts;
      readonly at: number;
    };

/** Per-process totals, reported with the `stopped` event. */
export interface SimCounts {
  readonly pings: number;
  readonly checkins: number;
  readonly runs: number;
  readonly hellos: number;
  readonly disconnects: number;
  readonly errors: number;
}

export type SimEventType = SimEvent["type"];

const TYPES: ReadonlySet<string> = new Set<SimEventType>([
  "started",
  "connected",
  "disconnected",
  "auth-failed",
  "refused",
  "ping",
  "checkin",
  "run",
  "error",
  "stopped",
]);

/** One line of `osad2-sim-clients` output → event; undefined for anything that is not one. */
export function parseSimEvent(line: string): SimEvent | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null) return undefined;
    const type = (value as { type?: unknown }).type;
    return typeof type === "string" && TYPES.has(type) ? (value as SimEvent) : undefined;
  } catch {
    return undefined;
  }
}
