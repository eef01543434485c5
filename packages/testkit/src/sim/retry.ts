import { setTimeout as sleep } from "node:timers/promises";

function isBusy(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (
      /SQLITE_BUSY|database is locked/i.test(e.message) ||
      (e as { code?: unknown }).code === "SQLITE_BUSY"
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Runs a database write from the test's or bench's side again when SQLite answers "database is locked":
 * a read-then-write transaction that races the server process's own writes gets SQLITE_BUSY
 * at once (WAL snapshot conflict), which no busy timeout waits out. Other errors pass through.
 */
export async function retryBusy<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (error) {
      if (i >= attempts || !isBusy(error)) throw error;
      await sleep(10 * i + Math.floor(Math.random() * 20));
    }
  }
}
