import Database from "better-sqlite3";
import type { Deployment } from "@osad2/testkit";

/**
 * Read-only queries with parameters against a deployment's database, written once with `?`
 * placeholders for both engines. Timestamps: pass {@link BenchDb.time} values.
 */
export class BenchDb {
  private sqlite: Database.Database | undefined;

  constructor(private readonly deployment: Deployment) {}

  /** A timestamp parameter as the engine stores it (ISO text on SQLite, Date on PostgreSQL). */
  time(date: Date): Date | string {
    return this.deployment.pg ? date : date.toISOString();
  }

  async query<R extends Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    if (this.deployment.pg) {
      let n = 0;
      return this.deployment.pg.query<R>(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
    }
    this.sqlite ??= new Database(this.deployment.databaseUrl.slice("sqlite:".length), {
      readonly: true,
      fileMustExist: true,
      timeout: 10_000,
    });
    return this.sqlite.prepare(sql).all(...params) as R[];
  }

  async count(sql: string, params: unknown[] = []): Promise<number> {
    const rows = await this.query<{ n: unknown }>(sql, params);
    return Number(rows[0]?.n ?? 0);
  }

  /** Push clients online whose last message is at or after `since` (all online ones without it). */
  onlineCount(since?: Date): Promise<number> {
    const base = `SELECT count(*) AS n FROM rhnpushclient pc JOIN rhnpushclientstate s ON s.id = pc.state_id
      WHERE s.label = 'online'`;
    return since
      ? this.count(`${base} AND pc.last_message_time >= ?`, [this.time(since)])
      : this.count(base);
  }

  /**
   * PostgreSQL only (undefined on SQLite): table scans and row writes in the deployment's schema
   * so far (pg_stat_user_tables: seq_scan + idx_scan + n_tup_ins + n_tup_upd + n_tup_del). Its
   * rate approximates statements per second — each statement on a table counts at least one,
   * a join one per table — without pg_stat_statements, and unlike pg_stat_database it is not
   * shared with whatever else uses the database. Backends report with up to ~1 s delay.
   */
  async tableActivity(): Promise<number | undefined> {
    const pg = this.deployment.pg;
    if (!pg) return undefined;
    const rows = await pg.query<{ n: unknown }>(
      `SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del), 0) AS n
         FROM pg_stat_user_tables WHERE schemaname = $1`,
      [pg.schema],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** rhnServerAction rows of the actions with status 2. */
  completedCount(actionIds: readonly number[]): Promise<number> {
    const marks = actionIds.map(() => "?").join(",");
    return this.count(
      `SELECT count(*) AS n FROM rhnserveraction WHERE status = 2 AND action_id IN (${marks})`,
      [...actionIds],
    );
  }

  close(): void {
    this.sqlite?.close();
    this.sqlite = undefined;
  }
}
