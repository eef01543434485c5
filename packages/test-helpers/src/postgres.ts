import { randomBytes } from "node:crypto";
import pg from "pg";

/** The machine's PostgreSQL (trust auth); every test run works in a schema of its own. */
export const POSTGRES_URL =
  process.env.OSAD2_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestSchema {
  /** Connection URL with a unique application_name, so faults can target exactly this run's connections. */
  readonly url: string;
  readonly schema: string;
  readonly applicationName: string;
  /** Runs SQL in the schema (search_path set) and returns the rows. */
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** pg_terminate_backend on every connection made with this run's URL (fault tests); returns how many. */
  terminateConnections(): Promise<number>;
  drop(): Promise<void>;
}

export async function createTestSchema(prefix = "osad2_t_"): Promise<TestSchema> {
  const schema = prefix + randomBytes(5).toString("hex");
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`SET search_path TO ${schema}`);
  const applicationName = schema;
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}application_name=${applicationName}`;
  return {
    url,
    schema,
    applicationName,
    async query(sql, params) {
      const result = await admin.query(sql, params);
      return result.rows;
    },
    async terminateConnections() {
      // Only this run's connections: other suites may share the database.
      const rows = await admin.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
        [applicationName],
      );
      return rows.rowCount ?? 0;
    },
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}
