import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";

/** The machine's PostgreSQL (trust auth); every test run works in a schema of its own. */
export const POSTGRES_URL =
  process.env.OSAD2_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** One database a test suite runs against: a SQLite file in a temp dir, or a fresh PostgreSQL schema. */
export interface TestDatabase {
  readonly kind: "sqlite" | "postgres";
  readonly url: string;
  /** PostgreSQL schema (search_path) for openStore; undefined on SQLite. */
  readonly schema: string | undefined;
  /** Counts rows of a table, read through an independent connection. */
  count(table: string): Promise<number>;
  /** Runs SQL through an independent connection (schema set on PostgreSQL). */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** pg_terminate_backend on every connection this database's URL made (PostgreSQL only). */
  terminateConnections(): Promise<number>;
  drop(): Promise<void>;
}

export const KINDS = ["sqlite", "postgres"] as const;

export async function createTestDatabase(kind: "sqlite" | "postgres"): Promise<TestDatabase> {
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
  const schema = `osad2_t_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`SET search_path TO ${schema}`);
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}application_name=${schema}`;
  return {
    kind: "postgres",
    url,
    schema,
    async count(table) {
      const result = await admin.query(`SELECT count(*)::int AS n FROM ${table}`);
      return (result.rows[0] as { n: number }).n;
    },
    async query(sql, params = []) {
      const result = await admin.query(sql, params);
      return result.rows as Record<string, unknown>[];
    },
    async terminateConnections() {
      const result = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
        [schema],
      );
      return result.rowCount ?? 0;
    },
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** Polls until check() is truthy or the bound passes (then throws with the label). */
export async function waitFor<T>(
  label: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
