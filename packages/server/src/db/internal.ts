import type { Knex } from "knex";
import type { DatabaseKind, SpacewalkStore } from "./types.js";
import type { DatabaseTarget } from "./url.js";

/** What the seeding tooling needs from a store and the public interface does not expose. */
export interface StoreInternals {
  readonly knex: Knex;
  readonly kind: DatabaseKind;
  readonly target: DatabaseTarget;
  /** Runs fn, turning connection failures into DatabaseUnavailableError. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
}

const internals = new WeakMap<SpacewalkStore, StoreInternals>();

export function registerInternals(store: SpacewalkStore, value: StoreInternals): void {
  internals.set(store, value);
}

export function internalsOf(store: SpacewalkStore): StoreInternals {
  const value = internals.get(store);
  if (value === undefined) throw new TypeError("not a store returned by openStore()");
  return value;
}

/** Rows of a knex.raw() result on either engine (pg wraps them, better-sqlite3 does not). */
export function rawRows<R>(result: unknown): R[] {
  if (Array.isArray(result)) return result as R[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as R[]) : [];
}

/** PostgreSQL numeric columns arrive as strings; SQLite integers as numbers. */
export function toNumber(value: unknown, column: string): number {
  const n =
    typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isFinite(n))
    throw new TypeError(`column ${column} holds a non-number: ${JSON.stringify(value)}`);
  return n;
}

/**
 * On SQLite, takes the write lock as a transaction's first statement. knex opens a deferred
 * transaction; one that reads first and writes later fails at once with SQLITE_BUSY when
 * another process (Spacewalk tooling, the demo, tests) wrote meanwhile, whatever busy_timeout
 * says. A write as the first statement waits for the lock instead. PostgreSQL needs nothing.
 */
export async function beginWrite(trx: Knex.Transaction, kind: DatabaseKind): Promise<void> {
  if (kind === "sqlite") await trx.raw("UPDATE rhnactionstatus SET id = id WHERE 0");
}
