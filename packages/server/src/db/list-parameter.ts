import type { Knex } from "knex";
import type { DatabaseKind } from "./types.js";

/** A `column in (values)` condition whose values travel as one bound parameter. */
export interface ListCondition {
  /** SQL with one `?` placeholder. */
  readonly sql: string;
  readonly binding: Knex.RawBinding;
}

/**
 * `column` in a list of any length as ONE bound parameter (PostgreSQL `= ANY(array)`, SQLite
 * `json_each`): 10,000 names are one statement, not 20 chunks of `IN (?, …)` placeholders,
 * and the statement text stays the same whatever the list's length.
 */
export function inList(
  kind: DatabaseKind,
  column: string,
  values: readonly (string | number)[],
): ListCondition {
  return kind === "postgres"
    ? { sql: `${column} = ANY(?)`, binding: [...values] as Knex.RawBinding }
    : { sql: `${column} IN (SELECT value FROM json_each(?))`, binding: JSON.stringify(values) };
}
