import type { Knex } from "knex";
import { DatabaseSchemaError } from "./errors.js";
import { rawRows } from "./internal.js";
import { embeddedMigrationSource } from "./migrations.js";
import { installNotifyTrigger, NOTIFY_TRIGGER } from "./notify-trigger.js";
import { MIGRATIONS_TABLE, REQUIRED_TABLES, TABLES } from "./tables.js";
import type { DatabaseKind, PrepareResult } from "./types.js";

/** Lower-case names of the tables present (in the current schema on PostgreSQL). */
async function existingTables(knex: Knex, kind: DatabaseKind): Promise<Set<string>> {
  const result =
    kind === "postgres"
      ? await knex.raw(
          "SELECT lower(table_name) AS name FROM information_schema.tables WHERE table_schema = current_schema()",
        )
      : await knex.raw("SELECT lower(name) AS name FROM sqlite_master WHERE type = 'table'");
  return new Set(rawRows<{ name: string }>(result).map((row) => row.name));
}

/**
 * Decides between a Spacewalk schema to use as it is and the standalone schema osad2 manages:
 * - osad2's migration table present → apply any newer embedded migrations ("created");
 * - none of the Spacewalk tables present → create them ("created");
 * - all of them present without osad2's table → Spacewalk's own schema: never altered ("existing");
 * - only some → DatabaseSchemaError naming the missing ones (osad2 will not guess).
 */
export async function prepareSchema(
  knex: Knex,
  kind: DatabaseKind,
  options: { readonly schema?: string; readonly notifyTrigger: boolean },
): Promise<PrepareResult> {
  let tables = await existingTables(knex, kind);
  let schema: PrepareResult["schema"];
  let applied: string[] = [];

  const present = REQUIRED_TABLES.filter((name) => tables.has(name));
  if (!tables.has(MIGRATIONS_TABLE) && present.length === REQUIRED_TABLES.length) {
    schema = "existing";
  } else if (!tables.has(MIGRATIONS_TABLE) && present.length > 0) {
    const missing = REQUIRED_TABLES.filter((name) => !tables.has(name));
    throw new DatabaseSchemaError(
      `the database has some Spacewalk tables (${present.join(", ")}) but not ${missing.join(", ")}; ` +
        "osad2 never alters an existing schema: point `database`/`database_schema` at the complete Spacewalk schema or at an empty one",
      missing,
    );
  } else {
    if (kind === "postgres" && options.schema !== undefined && tables.size === 0) {
      // search_path names a schema that may not exist yet; tables cannot be created without it.
      await knex.raw(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    }
    const [, log] = (await knex.migrate.latest({
      migrationSource: embeddedMigrationSource(kind),
      tableName: MIGRATIONS_TABLE,
    })) as [number, string[]];
    applied = log;
    schema = "created";
    tables = await existingTables(knex, kind);
  }

  let notifyTrigger = false;
  if (kind === "postgres") {
    if (options.notifyTrigger) await installNotifyTrigger(knex);
    notifyTrigger = await hasNotifyTrigger(knex);
  }
  return { schema, applied, notifyTrigger };
}

/** Whether the NOTIFY trigger is on rhnServerAction in the current schema (PostgreSQL). */
export async function hasNotifyTrigger(knex: Knex): Promise<boolean> {
  const result = await knex.raw(
    `SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE t.tgname = ? AND c.relname = ?
        AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`,
    [NOTIFY_TRIGGER, TABLES.serverAction],
  );
  return rawRows(result).length > 0;
}
