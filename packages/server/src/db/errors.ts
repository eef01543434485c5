/** Errors of the database layer. Each names what to fix; callers branch on the class and its fields. */

/** The `database` setting (URL) or a store option is wrong; fix the configuration, retrying will not help. */
export class DatabaseConfigError extends Error {
  override readonly name = "DatabaseConfigError";
  /** The configuration key at fault, e.g. `database` or `database_schema`. */
  readonly key: string;

  constructor(key: string, detail: string, options?: { cause?: unknown }) {
    super(`invalid ${key}: ${detail}`, options);
    this.key = key;
  }
}

/** The database cannot be reached right now; retrying later may succeed. */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";
  /** `host:port` for PostgreSQL, the file path for SQLite. */
  readonly host: string;

  constructor(host: string, detail: string, options?: { cause?: unknown }) {
    super(`database at ${host} is unavailable: ${detail}`, options);
    this.host = host;
  }
}

/** The database holds tables osad2 cannot work with (a partial or foreign schema); osad2 never alters it. */
export class DatabaseSchemaError extends Error {
  override readonly name = "DatabaseSchemaError";
  /** The Spacewalk tables that are missing (lower-case). */
  readonly missingTables: readonly string[];

  constructor(detail: string, missingTables: readonly string[], options?: { cause?: unknown }) {
    super(detail, options);
    this.missingTables = missingTables;
  }
}

/**
 * The database answers but its writes do not go through: another process holds SQLite's
 * write lock (`locked`, writes are retried), or the database refuses them (`failing`: disk
 * full, read-only, no privilege). What /healthz reports as a degraded database.
 */
export class DatabaseWritesFailingError extends Error {
  override readonly name = "DatabaseWritesFailingError";
  readonly kind: "locked" | "failing";
  /** When the writes started failing. */
  readonly since: Date;

  constructor(
    host: string,
    kind: "locked" | "failing",
    since: Date,
    detail: string,
    options?: { cause?: unknown },
  ) {
    const seconds = Math.max(0, Math.round((Date.now() - since.getTime()) / 1000));
    super(
      kind === "locked"
        ? `database at ${host} is degraded: another process has held its write lock for ${seconds} s (${detail}); writes are retried — find the process holding ${host} (fuser ${host})`
        : `database at ${host} is degraded: writes have failed for ${seconds} s (${detail}); free disk space or fix the database's permissions`,
      options,
    );
    this.kind = kind;
    this.since = since;
  }
}
