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
