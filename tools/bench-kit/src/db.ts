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
   * PostgreSQL only (undefined on SQLite): counters of the deployment's schema so far, from
   * pg_stat_user_tables — `scans` (seq_scan + idx_scan: each statement on a table scans it at
   * least once, a join once per table; the stand-in for statements, as pg_stat_statements is
   * not installed) and `rowsWritten` (n_tup_ins + n_tup_upd + n_tup_del). Unlike
   * pg_stat_database it counts no other user of the database. Backends report within ~1 s.
   */
  async tableActivity(): Promise<{ scans: number; rowsWritten: number } | undefined> {
    const pg = this.deployment.pg;
    if (!pg) return undefined;
    const rows = await pg.query<{ scans: unknown; written: unknown }>(
      `SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) AS scans,
              coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) AS written
         FROM pg_stat_user_tables WHERE schemaname = $1`,
      [pg.schema],
    );
    return { scans: Number(rows[0]?.scans ?? 0), rowsWritten: Number(rows[0]?.written ?? 0) };
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
