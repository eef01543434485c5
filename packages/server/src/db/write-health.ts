import type { Knex } from "knex";
import { isSqliteBusy } from "./busy-retry.js";

/** Why the database's writes are not going through. */
export interface WriteProblem {
  /** `locked`: another process holds SQLite's write lock (writes wait); `failing`: writes are refused. */
  readonly kind: "locked" | "failing";
  /** When the first of the failures in a row happened. */
  readonly since: Date;
  /** The database's own words, e.g. `database or disk is full`. */
  readonly message: string;
}

/** What a database's writes look like now, for /healthz. */
export interface WriteHealthView {
  /** The problem since the last write that went through, or undefined while writes succeed. */
  problem(): WriteProblem | undefined;
}

interface QueryData {
  readonly method?: string;
  readonly sql?: string;
}

const WRITE_METHODS = new Set(["insert", "update", "del", "delete", "upsert", "truncate"]);
const WRITE_SQL = /^\s*(insert|update|delete|replace|commit|create|drop|alter)\b/i;

/**
 * Error codes meaning "the database will not take writes": SQLite full, I/O error or
 * read-only; PostgreSQL disk full, out of memory, read-only transaction, no privilege.
 * Constraint violations are not here: they are answers, not a sick database.
 */
function refusesWrites(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string")
    return error instanceof Error && /terminat|timeout/i.test(error.message);
  return (
    /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|PERM)/.test(code) ||
    code.startsWith("53") ||
    code.startsWith("08") ||
    code.startsWith("57P") ||
    code === "25006" ||
    code === "42501"
  );
}

function isWrite(query: QueryData): boolean {
  if (query.method !== undefined && WRITE_METHODS.has(query.method)) return true;
  return query.method === "raw" && typeof query.sql === "string" && WRITE_SQL.test(query.sql);
}

/**
 * Follows the outcome of every write knex runs (its query-response and query-error events):
 * a write refused by the database, or waiting for another process's lock, is a problem until
 * the next write goes through. Reads do not count: a full disk still answers `select 1`.
 */
export class WriteHealth implements WriteHealthView {
  private current: WriteProblem | undefined;

  constructor(knex: Knex) {
    knex.on("query-response", (_response: unknown, query: QueryData) => {
      if (isWrite(query)) this.current = undefined;
    });
    knex.on("query-error", (error: unknown, query: QueryData) => {
      if (!isWrite(query)) return;
      const kind = isSqliteBusy(error) ? "locked" : refusesWrites(error) ? "failing" : undefined;
      if (kind === undefined) return;
      const message = error instanceof Error ? error.message : String(error);
      this.current =
        this.current?.kind === kind
          ? { ...this.current, message }
          : { kind, since: new Date(), message };
    });
  }

  problem(): WriteProblem | undefined {
    return this.current;
  }
}
