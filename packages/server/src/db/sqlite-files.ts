import { chmodSync, closeSync, constants, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ensureDirectorySync } from "@osad2/service-kit";

/**
 * Mode of the standalone database and its -wal/-shm files: they hold every system's secret
 * and shared key, so only the server's user may read them.
 */
export const SQLITE_FILE_MODE = 0o600;
/** Mode of the database directory when osad2 creates it (an existing one keeps its mode). */
export const SQLITE_DIR_MODE = 0o700;

const WRITE_CREATE_EXCLUSIVE =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * Makes the database's directory (0700) and an empty database file (0600) before SQLite
 * opens it: SQLite creates the file under the umask, and gives -wal and -shm the mode of
 * the database file, so creating it 0600 first keeps all three private under any umask.
 */
export function prepareSqliteFile(filename: string): void {
  const path = resolve(filename);
  ensureDirectorySync(dirname(path), SQLITE_DIR_MODE);
  try {
    closeSync(openSync(path, WRITE_CREATE_EXCLUSIVE, SQLITE_FILE_MODE));
    chmodSync(path, SQLITE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/**
 * Takes group and other bits off the database, -wal and -shm files that exist (an older
 * osad2 left them 0644). Called once the connection is open, so -wal and -shm exist.
 */
export function tightenSqliteFiles(filename: string): void {
  const path = resolve(filename);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o7777;
    } catch {
      continue;
    }
    if ((mode & 0o077) !== 0) chmodSync(file, mode & 0o700);
  }
}
