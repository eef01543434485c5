import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from "@osad2/test-helpers";
import { openStore, type SpacewalkStore } from "../src/db/index.js";
import { internalsOf } from "../src/db/internal.js";
import { embeddedMigrationSource } from "../src/db/migrations.js";
import { MIGRATIONS_TABLE } from "../src/db/tables.js";
import { createSystem, scheduleAction } from "../src/testing/index.js";
import { SPACEWALK_2_11_COLUMNS } from "./fixtures/spacewalk-2.11-columns.js";

interface CreatedColumn {
  readonly table: string;
  readonly column: string;
  readonly type: string;
  readonly notNull: boolean;
}

/** The columns osad2's schema created, as the database reports them. */
async function createdColumns(db: TestDatabase): Promise<CreatedColumn[]> {
  const tables = Object.keys(SPACEWALK_2_11_COLUMNS);
  if (db.kind === "postgres") {
    const rows = await db.query(
      `SELECT c.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS notnull
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
          AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
          AND c.relname IN (${tables.map((t) => `'${t}'`).join(", ")})`,
    );
    return rows.map((r) => ({
      table: String(r.t),
      column: String(r.c),
      type: String(r.type),
      notNull: r.notnull === true,
    }));
  }
  const out: CreatedColumn[] = [];
  for (const table of tables) {
    const rows = await db.query(
      `SELECT name, type, "notnull" AS nn, pk FROM pragma_table_info('${table}')`,
    );
    for (const r of rows) {
      // An INTEGER PRIMARY KEY is the rowid: NOT NULL by nature even where not declared.
      out.push({
        table,
        column: String(r.name),
        type: String(r.type),
        notNull:
          Number(r.nn) === 1 || (Number(r.pk) === 1 && String(r.type).toLowerCase() === "integer"),
      });
    }
  }
  return out;
}

/** The SQLite declared type osad2 uses for a Spacewalk PostgreSQL type (nearest affinity). */
function sqliteTypeOf(pgType: string): string {
  if (pgType === "numeric") return "integer";
  if (pgType === "timestamp with time zone") return "text";
  if (pgType === "character(1)") return "char(1)";
  const varchar = /^character varying\((\d+)\)$/.exec(pgType);
  return varchar ? `varchar(${varchar[1]})` : pgType;
}

describe.each(DATABASE_KINDS)("osad2's trial schema against Spacewalk 2.11 (%s)", (kind) => {
  let db: TestDatabase;
  let store: SpacewalkStore | undefined;

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await db.drop();
  });

  it("creates every column with Spacewalk's type and NOT NULL, no column Spacewalk lacks, and every column Spacewalk requires", async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url, { schema: db.schema });
    await store.prepare();
    const created = await createdColumns(db);
    expect(new Set(created.map((c) => c.table))).toEqual(
      new Set(Object.keys(SPACEWALK_2_11_COLUMNS)),
    );
    const mismatches: string[] = [];
    for (const c of created) {
      const spacewalk = SPACEWALK_2_11_COLUMNS[c.table]?.[c.column];
      if (spacewalk === undefined) {
        mismatches.push(`${c.table}.${c.column}: Spacewalk 2.11 has no such column`);
        continue;
      }
      const expected = kind === "postgres" ? spacewalk.type : sqliteTypeOf(spacewalk.type);
      if (c.type.toLowerCase() !== expected)
        mismatches.push(`${c.table}.${c.column}: type ${c.type}, Spacewalk ${expected}`);
      if (c.notNull !== spacewalk.notNull)
        mismatches.push(
          `${c.table}.${c.column}: NOT NULL ${c.notNull}, Spacewalk ${spacewalk.notNull}`,
        );
    }
    // What an INSERT into Spacewalk must give (NOT NULL, no default) the trial schema has too.
    for (const [table, columns] of Object.entries(SPACEWALK_2_11_COLUMNS)) {
      for (const [column, spacewalk] of Object.entries(columns)) {
        if (
          spacewalk.notNull &&
          spacewalk.hasDefault === undefined &&
          !created.some((c) => c.table === table && c.column === column)
        )
          mismatches.push(`${table}.${column}: required by Spacewalk, missing`);
      }
    }
    expect(mismatches).toEqual([]);
    // Everything but rhnServer is complete: same columns as Spacewalk's.
    for (const table of Object.keys(SPACEWALK_2_11_COLUMNS).filter((t) => t !== "rhnserver")) {
      expect(
        created
          .filter((c) => c.table === table)
          .map((c) => c.column)
          .sort(),
        table,
      ).toEqual(Object.keys(SPACEWALK_2_11_COLUMNS[table] ?? {}).sort());
    }
  });

  it("seeding fills what Spacewalk requires: server_arch_id, os, release, rhnServerInfo; version 2, archived 0, 10 tries", async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url, { schema: db.schema });
    await store.prepare();
    const { system } = await createSystem(store, { name: "web01" });
    const [server] = await db.query(
      `SELECT os, release, server_arch_id FROM rhnserver WHERE id = ${system.id}`,
    );
    expect(server).toMatchObject({ os: "redhat-release-server", release: "7Server" });
    expect(Number(server?.server_arch_id)).toBe(1);
    const [info] = await db.query(
      `SELECT checkin, checkin_counter FROM rhnserverinfo WHERE server_id = ${system.id}`,
    );
    expect(info?.checkin).not.toBeNull();
    expect(Number(info?.checkin_counter)).toBe(0);
    const actionId = await scheduleAction(store, { serverIds: [system.id] });
    const [action] = await db.query(
      `SELECT version, archived FROM rhnaction WHERE id = ${actionId}`,
    );
    expect([Number(action?.version), Number(action?.archived)]).toEqual([2, 0]);
    const [serverAction] = await db.query(
      `SELECT status, remaining_tries FROM rhnserveraction WHERE action_id = ${actionId}`,
    );
    expect([Number(serverAction?.status), Number(serverAction?.remaining_tries)]).toEqual([0, 10]);
  });

  it("upgrades a 0.1.0 trial database (migration 0001 only) in place, keeping its rows", async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url, { schema: db.schema });
    const { knex } = internalsOf(store);
    if (kind === "postgres") await knex.raw(`CREATE SCHEMA IF NOT EXISTS ${db.schema ?? "public"}`);
    await knex.migrate.up({
      migrationSource: embeddedMigrationSource(kind),
      tableName: MIGRATIONS_TABLE,
    });
    // Rows as 0.1.0 wrote them: os and release could be NULL, dispatchers had a port.
    const now = kind === "postgres" ? "now()" : "'2026-01-01T00:00:00.000Z'";
    await db.query(
      `INSERT INTO rhnserver (id, org_id, digital_server_id, name, secret) VALUES (1000010000, 1, 'ID-1000010000', 'old', '${"a".repeat(64)}')`,
    );
    await db.query(
      `INSERT INTO rhnaction (id, org_id, action_type, earliest_action) VALUES (1, 1, 3, ${now})`,
    );
    await db.query(
      "INSERT INTO rhnserveraction (server_id, action_id, status) VALUES (1000010000, 1, 0)",
    );
    await db.query(
      "INSERT INTO rhnpushdispatcher (id, jabber_id, hostname, port) VALUES (1, 'd@h/x', 'h', 5222)",
    );
    const result = await store.prepare();
    expect(result.applied).toEqual(["0002_spacewalk_2_11_columns"]);
    const [server] = await db.query("SELECT os, release, server_arch_id, name FROM rhnserver");
    expect(server).toMatchObject({ os: "unknown", release: "unknown", name: "old" });
    expect(Number(server?.server_arch_id)).toBe(1);
    expect(await db.count("rhnserverinfo")).toBe(1);
    expect(await db.count("rhnserveraction")).toBe(1);
    expect(await store.pushDispatchers()).toEqual([{ jabberId: "d@h/x", hostname: "h" }]);
    // The foreign keys still hold after SQLite rebuilt rhnServer.
    const orphan = await db
      .query("INSERT INTO rhnserveraction (server_id, action_id, status) VALUES (42, 1, 0)")
      .then(
        () => "accepted",
        () => "refused",
      );
    expect(orphan).toBe("refused");
    expect(
      (await createdColumns(db)).filter((c) => c.table === "rhnserver" && c.column === "os"),
    ).toEqual([expect.objectContaining({ notNull: true })]);
  });
});
