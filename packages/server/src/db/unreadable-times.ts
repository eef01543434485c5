import type { Knex } from "knex";
import { fromDbTime, sqliteInstant } from "./time.js";
import type { DatabaseKind, StoreLogger } from "./types.js";

/** One stored time value SQLite cannot read (strftime gives NULL), and what osad2 does about it. */
export interface UnreadableTime {
  /** Table as Spacewalk spells it (rhnAction, rhnPushClient). */
  readonly table: string;
  readonly column: string;
  /** The row's key, e.g. { id: 5 } or { name: "…" }. */
  readonly row: Readonly<Record<string, string | number>>;
  /** The stored value, as read. */
  readonly value: unknown;
  /** What osad2 does with the row meanwhile, e.g. "the action is not due". */
  readonly consequence: string;
}

/** Enough for any real mix-up; past it the memory is cleared and rows may be reported again. */
const MAX_REMEMBERED = 10_000;

/**
 * Reports each unreadable time value once (per row, column and value), so a bad row is named
 * clearly without a warning on every dispatcher round. A row fixed and broken again with
 * another value is reported again.
 */
export class UnreadableTimes {
  private readonly reported = new Set<string>();

  constructor(private readonly logger: StoreLogger | undefined) {}

  report(time: UnreadableTime): void {
    const key = JSON.stringify([time.table, time.column, time.row, time.value]);
    if (this.reported.has(key)) return;
    if (this.reported.size >= MAX_REMEMBERED) this.reported.clear();
    this.reported.add(key);
    const row = Object.entries(time.row)
      .map(([column, value]) => `${column} ${shown(value)}`)
      .join(", ");
    this.logger?.warn(
      { table: time.table, column: time.column, row: time.row, value: time.value },
      `${time.table}.${time.column} of the row with ${row} holds ${shown(time.value)}, which SQLite cannot read as a date/time: ${time.consequence} until it is corrected (write UTC as '2026-12-02T23:00:00Z' or '2026-12-02 23:00:00', or with an offset such as '2026-12-02T23:00:00+02:00')`,
    );
  }
}

function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** Alias suffix of the {@link sqliteInstant} column selected next to a raw time column. */
const INSTANT = "_instant";

/** SQLite: `column`'s instant as `<alias>_instant`, to be read by {@link UnreadableTimes.read}. */
export function selectInstant(knex: Knex, column: string, alias: string): Knex.Raw {
  return knex.raw(`${sqliteInstant(column)} as ??`, [`${alias}${INSTANT}`]);
}

/** Where a time value came from, to name it when it is unreadable. */
export type TimeSource = Omit<UnreadableTime, "value" | "column">;

/**
 * A time column of a result row: the Date on PostgreSQL; on SQLite the instant SQLite read
 * (selected with {@link selectInstant} as `<column>_instant`), or null (and reported) when it
 * could not read the stored text.
 */
export function readTime(
  kind: DatabaseKind,
  row: Readonly<Record<string, unknown>>,
  column: string,
  source: TimeSource,
  unreadable: UnreadableTimes,
): Date | null {
  const raw = row[column];
  if (kind === "postgres" || raw === null || raw === undefined) return fromDbTime(raw);
  const instant = fromDbTime(row[`${column}${INSTANT}`]);
  if (instant === null) unreadable.report({ ...source, column, value: raw });
  return instant;
}
