import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { WakeUpHandler } from "./types.js";

/** Default of {@link SqliteWatchOptions.fallbackPollMs}. */
export const DEFAULT_SQLITE_FALLBACK_POLL_MS = 1_000;
/**
 * After a file event, look again this much later: SQLite writes a commit's frames to the -wal
 * file before it publishes them in the -shm index, and a look between the two sees nothing new.
 */
export const SQLITE_SETTLE_MS = 10;

/** Options of {@link watchSqliteCommits}. */
export interface SqliteWatchOptions {
  /** The database file. */
  readonly filename: string;
  /**
   * `PRAGMA data_version` on the store's own connection: it changes when another connection
   * (any process) committed, never for the connection's own writes.
   */
  readonly dataVersion: () => Promise<number>;
  readonly handler: WakeUpHandler;
  /** Look even without a file event this often (events can be missed). Default 1,000 ms. */
  readonly fallbackPollMs?: number;
}

/**
 * Wakes `handler` on every commit by another connection to a SQLite file, in any process.
 * A commit in WAL mode writes the -wal file (or, at a checkpoint, the database file), so the
 * database's directory is watched (the -wal file may not exist yet, and is truncated and
 * rewritten after checkpoints); each event leads to a look at `PRAGMA data_version`, so this
 * process's own writes (presence) wake nothing. Looks are serialised: events arriving during a
 * look cause one more. Resolves once the first look is done with the function that stops.
 */
export async function watchSqliteCommits(
  options: SqliteWatchOptions,
): Promise<() => Promise<void>> {
  const file = resolve(options.filename);
  const names = new Set([basename(file), `${basename(file)}-wal`]);
  let stopped = false;
  let last = await options.dataVersion();
  let looking: Promise<void> | undefined;
  let again = false;
  let settle: NodeJS.Timeout | undefined;

  const look = (): void => {
    if (stopped) return;
    if (looking !== undefined) {
      again = true;
      return;
    }
    looking = (async () => {
      do {
        again = false;
        try {
          const version = await options.dataVersion();
          if (version !== last) {
            last = version;
            if (!stopped) options.handler.wakeUp();
          }
        } catch {
          // The database is busy or away: the next event or poll looks again, and the
          // dispatcher's own rounds report the outage.
        }
      } while (again && !stopped);
    })().finally(() => {
      looking = undefined;
    });
  };

  const onEvent = (_event: string, name: string | Buffer | null): void => {
    if (name !== null && !names.has(String(name))) return;
    look();
    settle ??= setTimeout(() => {
      settle = undefined;
      look();
    }, SQLITE_SETTLE_MS);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, onEvent);
    // Out of inotify watches, directory removed: the fallback poll carries on alone.
    watcher.on("error", () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    watcher = undefined;
  }
  const poll = setInterval(look, options.fallbackPollMs ?? DEFAULT_SQLITE_FALLBACK_POLL_MS);
  poll.unref();
  try {
    options.handler.connectionChanged?.({ type: "listening", reconnected: false });
  } catch {
    // A faulty observer must not stop the watch.
  }

  return async () => {
    stopped = true;
    watcher?.close();
    clearInterval(poll);
    clearTimeout(settle);
    await looking;
  };
}
