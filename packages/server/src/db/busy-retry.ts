import { backoffDelay } from "@osad2/service-kit";

/**
 * busy_timeout of osad2's SQLite connection. better-sqlite3 is synchronous: SQLite's busy
 * wait would freeze the event loop (pings, /healthz, XML-RPC) for as long as another process
 * holds the write lock, so the wait is this short and the retries are asynchronous.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 2;
/** How long an operation keeps retrying a locked SQLite database before it fails. */
export const SQLITE_BUSY_RETRY_MS = 30_000;
/** Back-off between retries: 10 ms doubling to 500 ms, with jitter so waiters spread out. */
const RETRY_BACKOFF = { minMs: 10, maxMs: 500, jitter: 0.5 } as const;

/** True for SQLite's "another connection holds the lock" (SQLITE_BUSY and its extended codes, SQLITE_LOCKED). */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
  );
}

/**
 * Runs `operation`, and again after an asynchronous back-off while SQLite says it is locked,
 * for up to `limitMs`; then the last SQLITE_BUSY is thrown. Every store operation is one
 * statement or one transaction (rolled back on failure), so running it again is safe.
 */
export async function retryWhileBusy<T>(
  operation: () => Promise<T>,
  limitMs: number = SQLITE_BUSY_RETRY_MS,
): Promise<T> {
  const started = Date.now();
  for (let failures = 1; ; failures++) {
    try {
      return await operation();
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() - started >= limitMs) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, backoffDelay(failures, RETRY_BACKOFF)));
  }
}
