import Database from "better-sqlite3";
import pg from "pg";

/** Where {@link ActionCompleter} writes: the deployment's database. */
export type CompleterTarget =
  | { readonly kind: "sqlite"; readonly file: string }
  | { readonly kind: "postgres"; readonly url: string; readonly schema: string };

/** Rows per UPDATE: far below SQLite's variable limit and PostgreSQL's. */
const BATCH = 500;

/**
 * What rhn_check does at the end of a run, in bulk: every queued or picked-up
 * rhnServerAction of the given systems becomes completed (status 2, completion_time now).
 * Requests are gathered for `delayMs` so 10,000 completions are 20 UPDATEs, not 10,000.
 */
export class ActionCompleter {
  private queue = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private sqlite: Database.Database | undefined;
  private pgClient: pg.Client | undefined;
  /** Rows set to completed so far. */
  completedRows = 0;
  /** When the last UPDATE that completed a row committed (ms), 0 before any. */
  lastWriteAt = 0;
  /** The last write error, if any (the bench reports it; later batches still run). */
  lastError: Error | undefined;

  private constructor(
    private readonly target: CompleterTarget,
    private readonly delayMs: number,
  ) {}

  static async open(target: CompleterTarget, delayMs = 20): Promise<ActionCompleter> {
    const completer = new ActionCompleter(target, delayMs);
    if (target.kind === "sqlite") {
      completer.sqlite = new Database(target.file, { fileMustExist: true, timeout: 30_000 });
    } else {
      const client = new pg.Client({ connectionString: target.url });
      await client.connect();
      await client.query(`SET search_path TO ${target.schema}`);
      completer.pgClient = client;
    }
    return completer;
  }

  /** Marks the system's open actions completed soon (batched). */
  complete(serverId: number): void {
    this.queue.add(serverId);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, this.delayMs);
  }

  /** Writes everything requested so far. */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.flush());
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.drain();
    this.sqlite?.close();
    await this.pgClient?.end();
  }

  private async flush(): Promise<void> {
    const ids = [...this.queue];
    this.queue.clear();
    const now = new Date();
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      try {
        const changed = await this.update(batch, now);
        if (changed > 0) {
          this.completedRows += changed;
          this.lastWriteAt = Date.now();
        }
      } catch (error) {
        this.lastError = error as Error;
      }
    }
  }

  private async update(serverIds: readonly number[], now: Date): Promise<number> {
    if (this.sqlite) {
      const marks = serverIds.map(() => "?").join(",");
      const at = now.toISOString();
      const info = this.sqlite
        .prepare(
          `UPDATE rhnserveraction SET status = 2, pickup_time = COALESCE(pickup_time, ?),
             completion_time = ?, modified = ? WHERE status IN (0, 1) AND server_id IN (${marks})`,
        )
        .run(at, at, at, ...serverIds);
      return info.changes;
    }
    const client = this.pgClient as pg.Client;
    const result = await client.query(
      `UPDATE rhnserveraction SET status = 2, pickup_time = COALESCE(pickup_time, $1),
         completion_time = $1, modified = $1 WHERE status IN (0, 1) AND server_id = ANY($2::numeric[])`,
      [now, serverIds],
    );
    return result.rowCount ?? 0;
  }
}
