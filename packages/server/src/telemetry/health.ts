import type { RouterLoopStatus } from "../transport/router-loop.js";
import type { SocketState } from "../transport/sockets.js";

/** What /healthz answers (JSON); HTTP 200 when healthy, 503 otherwise. */
export interface HealthReport {
  readonly healthy: boolean;
  readonly db: { readonly ok: boolean; readonly kind: string; readonly error?: string };
  /** `listener` is the ROUTER socket (listener_port). */
  readonly sockets: SocketState;
  /** The loop reading clients' messages from the ROUTER; `ok` false while it restarts after a failure. */
  readonly router: { readonly ok: boolean; readonly error?: string };
  readonly clientsOnline: number;
  /** Systems asked to check in and not done yet. */
  readonly inFlight: number;
}

/** The parts a health report looks at; absent ones count as down (the server is not running). */
export interface HealthSources {
  readonly running: boolean;
  readonly store?: { readonly kind: string; healthCheck(): Promise<void> };
  readonly sockets?: { readonly state: SocketState };
  readonly router?: { readonly status: RouterLoopStatus };
  readonly presence?: { readonly onlineCount: number };
  readonly dispatch?: { readonly inFlight: number };
}

/** Whatever can answer /healthz (the server). */
export interface HealthSource {
  health(): Promise<HealthReport>;
}

/** How long /healthz waits for the database before calling it unreachable. */
export const HEALTH_DB_TIMEOUT_MS = 2_000;

/** Runs `check` with a timeout; resolves to an error message or undefined when it passed. */
export async function probe(
  check: () => Promise<void>,
  timeoutMs: number = HEALTH_DB_TIMEOUT_MS,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Healthy: running, database answering, both sockets bound, the ROUTER loop reading. */
export async function checkHealth(sources: HealthSources): Promise<HealthReport> {
  const store = sources.store;
  const dbProblem =
    store === undefined ? "server not running" : await probe(() => store.healthCheck());
  const sockets = sources.sockets?.state ?? { publisher: false, listener: false };
  const loop = sources.router?.status ?? { ok: false, error: "server not running" };
  const router = loop.ok ? { ok: true } : { ok: false, error: loop.error ?? "not reading" };
  return {
    healthy:
      sources.running &&
      dbProblem === undefined &&
      sockets.publisher &&
      sockets.listener &&
      loop.ok,
    db: {
      ok: dbProblem === undefined,
      kind: store?.kind ?? "unknown",
      ...(dbProblem === undefined ? {} : { error: dbProblem }),
    },
    sockets,
    router,
    clientsOnline: sources.presence?.onlineCount ?? 0,
    inFlight: sources.dispatch?.inFlight ?? 0,
  };
}
