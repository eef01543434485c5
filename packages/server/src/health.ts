import type { SocketState } from "./zmq/sockets.js";

/** What /healthz answers (JSON); HTTP 200 when healthy, 503 otherwise. */
export interface HealthReport {
  readonly healthy: boolean;
  readonly db: { readonly ok: boolean; readonly kind: string; readonly error?: string };
  readonly sockets: SocketState;
  readonly clientsOnline: number;
  /** Systems asked to check in and not done yet. */
  readonly inFlight: number;
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
