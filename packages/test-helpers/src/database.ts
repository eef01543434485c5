import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTestSchema } from "./postgres.js";

/** The two databases osad2 runs on. */
export type TestDatabaseKind = "sqlite" | "postgres";

/** Both kinds, for `describe.each(DATABASE_KINDS)`. */
export const DATABASE_KINDS: readonly TestDatabaseKind[] = ["sqlite", "postgres"];

/** One database a suite runs against: a SQLite file in a temp dir, or a fresh PostgreSQL schema. */
export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  /** What the server's `database` setting takes. */
  readonly url: string;
  /** PostgreSQL schema (search_path) for openStore; undefined on SQLite. */
  readonly schema: string | undefined;
  /** Counts rows of a table, read through an independent connection. */
  count(table: string): Promise<number>;
  /** Runs SQL through an independent connection (schema set on PostgreSQL). */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** pg_terminate_backend on every connection this database's URL made (0 on SQLite). */
  terminateConnections(): Promise<number>;
  drop(): Promise<void>;
}

/** A fresh, empty database of the given kind. */
export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  return kind === "sqlite" ? createSqlite() : createPostgres();
}

async function createSqlite(): Promise<TestDatabase> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "osad2-db-"));
  const file = path.join(dir, "osad2.db");
  const { default: Database } = await import("better-sqlite3");
  let db: InstanceType<typeof Database> | undefined;
  const open = () => (db ??= new Database(file));
  return {
    kind: "sqlite",
    url: `sqlite:${file}`,
    schema: undefined,
    async count(table) {
      const row = open().prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
      return row.n;
    },
    async query(sql, params = []) {
      const statement = open().prepare(sql);
      if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
      statement.run(...params);
      return [];
    },
    async terminateConnections() {
      return 0;
    },
    async drop() {
      db?.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function createPostgres(): Promise<TestDatabase> {
  const schema = await createTestSchema();
  return {
    kind: "postgres",
    url: schema.url,
    schema: schema.schema,
    async count(table) {
      const rows = await schema.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0]?.n ?? 0;
    },
    query: (sql, params) => schema.query(sql, params),
    terminateConnections: () => schema.terminateConnections(),
    drop: () => schema.drop(),
  };
}
