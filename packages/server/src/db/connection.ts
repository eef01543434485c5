import knexFactory, { type Knex } from "knex";
import { SQLITE_BUSY_TIMEOUT_MS } from "./busy-retry.js";
import { DatabaseUnavailableError } from "./errors.js";
import { tightenSqliteFiles } from "./sqlite-files.js";
import type { DatabaseTarget } from "./url.js";
import type { StoreOptions } from "./types.js";

/** Default pool size on PostgreSQL; SQLite always uses one connection (one writer at a time). */
export const DEFAULT_POSTGRES_POOL_MAX = 4;
/** How long a query waits for a pooled connection before failing. */
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 10_000;
/** How long opening a PostgreSQL connection may take (a black-holed host must not hang the server). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** application_name of osad2's PostgreSQL connections unless the URL sets one. */
export const DEFAULT_APPLICATION_NAME = "osad2-server";

/** The pg connection settings shared by the pool and the dedicated LISTEN client. */
export function pgConnectionConfig(target: Extract<DatabaseTarget, { kind: "postgres" }>) {
  return {
    connectionString: target.connectionString,
    // A URL's own ?application_name= wins (pg parses the string over these fields).
    application_name: DEFAULT_APPLICATION_NAME,
    connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS,
  };
}

/** Routes knex's console logging to the store's logger (errors surface as rejections anyway). */
function knexLog(options: StoreOptions): Knex.Config["log"] {
  const logger = options.logger;
  const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
  return {
    warn: (message: unknown) => logger?.warn({ source: "knex" }, text(message)),
    error: (message: unknown) => logger?.warn({ source: "knex" }, text(message)),
    deprecate: (method: string, alternative: string) =>
      logger?.debug({ source: "knex" }, `${method} is deprecated, use ${alternative}`),
    debug: (message: unknown) => logger?.debug({ source: "knex" }, text(message)),
  };
}

export function createKnex(target: DatabaseTarget, options: StoreOptions): Knex {
  if (target.kind === "sqlite") {
    return knexFactory({
      log: knexLog(options),
      client: "better-sqlite3",
      connection: { filename: target.filename },
      useNullAsDefault: true,
      acquireConnectionTimeout: DEFAULT_ACQUIRE_TIMEOUT_MS,
      pool: {
        min: 1,
        max: 1,
        afterCreate(
          connection: BetterSqliteConnection,
          done: (error: Error | null, connection: unknown) => void,
        ) {
          try {
            connection.pragma("foreign_keys = ON");
            // Other processes (demo tools, Spacewalk stand-ins) write the same file. The driver is
            // synchronous: a long busy wait would freeze the event loop, so wait a moment only
            // and let the store retry asynchronously (busy-retry.ts).
            connection.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
            if (target.filename !== ":memory:") {
              connection.pragma("journal_mode = WAL");
              tightenSqliteFiles(target.filename);
            }
            done(null, connection);
          } catch (error) {
            done(error as Error, connection);
          }
        },
      },
    });
  }
  return knexFactory({
    log: knexLog(options),
    client: "pg",
    connection: pgConnectionConfig(target),
    searchPath: options.schema === undefined ? undefined : [options.schema],
    acquireConnectionTimeout: DEFAULT_ACQUIRE_TIMEOUT_MS,
    pool: { min: 0, max: options.poolMax ?? DEFAULT_POSTGRES_POOL_MAX },
  });
}

interface BetterSqliteConnection {
  pragma(source: string): unknown;
}

/** Error codes meaning "cannot reach / use the database now" rather than "the query is wrong". */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "SQLITE_CANTOPEN",
  "SQLITE_BUSY",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  "SQLITE_IOERR",
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, database does not exist, too many connections
  "57P01",
  "57P02",
  "57P03",
  "3D000",
  "53300",
]);

const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /Knex: Timeout acquiring a connection/i,
  /timeout expired/i,
  /Connection ended unexpectedly/i,
  /not queryable/i,
  /unable to open database file/i,
];

/** True when an error means the database is unreachable or unusable for now. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("08"))) return true;
  // better-sqlite3 reports extended codes, e.g. SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_WRITE.
  if (typeof code === "string" && /^SQLITE_(BUSY|IOERR|READONLY|CANTOPEN|FULL)_/.test(code)) {
    return true;
  }
  if (error.name === "KnexTimeoutError") return true;
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message));
}

/** A fix hint for people, by engine. */
export function unavailableHint(target: DatabaseTarget): string {
  return target.kind === "postgres"
    ? `check that PostgreSQL runs and accepts connections at ${target.display} (pg_hba.conf, firewall), or correct \`database\` in osad_server.cfg / --db`
    : `check that ${target.display} and its directory exist and are readable and writable by this user, or correct \`database\` in osad_server.cfg / --db`;
}

/** Rethrows connection failures as DatabaseUnavailableError; anything else unchanged. */
export function translateError(error: unknown, target: DatabaseTarget): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  if (!isUnavailable(error)) return error;
  const detail = error instanceof Error && error.message ? error.message : String(error);
  return new DatabaseUnavailableError(
    target.display,
    `${firstLine(detail)}; ${unavailableHint(target)}`,
    {
      cause: error,
    },
  );
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
