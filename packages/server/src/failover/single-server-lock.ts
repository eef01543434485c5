import { PidfileError, acquirePidfile } from "@osad2/service-kit";
import { SingleServerError } from "./errors.js";

/** The lock file beside a SQLite database that names the one server using it. */
export function sqliteLockFile(filename: string): string {
  return `${filename}.osad2-server.lock`;
}

/**
 * Claims a SQLite database for this server: SQLite has no way to hand a notifying role
 * between processes, so one file means one server. The claim is a pidfile beside the
 * database (created exclusively; a dead holder's is replaced). Returns the release function.
 * @throws {SingleServerError} when a live osad2-server holds it.
 */
export async function claimSqliteDatabase(filename: string): Promise<() => Promise<void>> {
  const lockFile = sqliteLockFile(filename);
  try {
    return await acquirePidfile(lockFile, { program: "osad2-server" });
  } catch (error) {
    if (error instanceof PidfileError && error.problem === "running") {
      throw new SingleServerError(filename, lockFile, error.pid, { cause: error });
    }
    throw error;
  }
}
