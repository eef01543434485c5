import type { DatabaseKind } from "./types.js";

/**
 * Timestamps: PostgreSQL columns are timestamptz and take/return Date objects. SQLite has no
 * time type; osad2 writes ISO-8601 UTC text with milliseconds (`2024-05-01T12:00:00.000Z`,
 * the format of Date.toISOString()), but rows written by hand or by other tools hold any of
 * SQLite's own forms (`2024-05-01 12:00:00`, `…+02:00`), which do NOT compare as text in time
 * order (' ' sorts before 'T'). So SQLite queries compare and read {@link sqliteInstant}.
 */
export type DbTime = Date | string;

/** SQLite default for created/modified columns, in the same ISO format. */
export const SQLITE_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))";

export function toDbTime(kind: DatabaseKind, date: Date): DbTime {
  if (Number.isNaN(date.getTime()))
    throw new RangeError("invalid Date passed to the database layer");
  return kind === "postgres" ? date : date.toISOString();
}

/**
 * A stored SQLite time value as SQLite itself reads it, in osad2's ISO text (so it compares as
 * text in time order with toDbTime's values); NULL for NULL and for text SQLite cannot read.
 * `column` is a column reference from this package, never user input.
 */
export function sqliteInstant(column: string): string {
  return `strftime('%Y-%m-%dT%H:%M:%fZ', ${column})`;
}

/** `column` as an instant to compare or order by: itself on PostgreSQL (timestamptz), {@link sqliteInstant} on SQLite. */
export function instantSql(kind: DatabaseKind, column: string): string {
  return kind === "postgres" ? column : sqliteInstant(column);
}

/** Date-time text without a zone designator: SQLite takes it as UTC, Date() as local time. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Reads a timestamp column; tolerates the other text forms SQLite tools write (zone-less text is UTC, as SQLite reads it). */
export function fromDbTime(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === "number") return new Date(value);
  if (typeof value === "string") {
    // SQLite's CURRENT_TIMESTAMP writes "YYYY-MM-DD HH:MM:SS" in UTC; Date() would read it as local time.
    const normalised = ZONELESS.test(value) ? `${value.replace(" ", "T")}Z` : value;
    const date = new Date(normalised);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new TypeError(`unreadable timestamp in the database: ${JSON.stringify(value)}`);
}

/** Like fromDbTime for NOT NULL columns. */
export function requireDbTime(value: unknown, column: string): Date {
  const date = fromDbTime(value);
  if (date === null) throw new TypeError(`column ${column} is unexpectedly NULL`);
  return date;
}
