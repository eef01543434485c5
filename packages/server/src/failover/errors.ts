/** A second osad2-server on the same SQLite database (SQLite supports one server). */
export class SingleServerError extends Error {
  override readonly name = "SingleServerError";

  constructor(
    /** The SQLite file. */
    readonly database: string,
    /** The lock file naming the server that holds it. */
    readonly lockFile: string,
    /** That server's pid. */
    readonly holderPid: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `another osad2-server (pid ${holderPid ?? "?"}) already serves the SQLite database ${database} (lock file ${lockFile}): ` +
        "SQLite supports exactly one osad2-server — stop that one first, or move to PostgreSQL to run two or more servers with failover (README, Failover)",
      options,
    );
  }
}
