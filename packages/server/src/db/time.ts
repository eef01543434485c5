import type { DatabaseKind } from "./types.js";

/**
 * Timestamps: PostgreSQL columns are timestamptz and take/return Date objects. SQLite has no
 * time type; osad2 stores ISO-8601 UTC text with milliseconds (`2024-05-01T12:00:00.000Z`,
 * the format of Date.toISOString()), which sorts and compares as text in time order.
 */
export type DbTime = Date | string;

/** SQLite default for created/modified columns, in the same ISO format. */
export const SQLITE_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))";

export function toDbTime(kind: DatabaseKind, date: Date): DbTime {
  if (Number.isNaN(date.getTime()))
    throw new RangeError("invalid Date passed to the database layer");
  return kind === "postgres" ? date : date.toISOString();
}

/** Reads a timestamp column; tolerates the other text forms SQLite tools write (all taken as UTC). */
export function fromDbTime(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === "number") return new Date(value);
  if (typeof value === "string") {
    // SQLite's CURRENT_TIMESTAMP writes "YYYY-MM-DD HH:MM:SS" in UTC; Date() would read it as local time.
    const normalised = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(value)
      ? `${value.replace(" ", "T")}Z`
      : value;
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
