import pg from "pg";
import { pgConnectionConfig } from "../db/connection.js";
import type { DatabaseTarget } from "../db/url.js";

/**
 * The class id of the notifying role's PostgreSQL advisory lock (`'osd2'` in ASCII). The
 * lock is `pg_try_advisory_lock(1869833266, hashtext(current_schema()))`: one notifying role
 * per osad2 schema, so several osad2 installations (or test runs) in one database do not
 * contend. Fixed: every osad2-server of one installation must use the same key.
 */
export const ROLE_LOCK_CLASS_ID = 0x6f736432;

/** How long a lock query may take before the lock connection is taken for dead. */
export const DEFAULT_LOCK_QUERY_TIMEOUT_MS = 2_000;

/**
 * PostgreSQL's side of the lock connection: how soon it drops a holder that vanished without
 * closing the connection (a half-open TCP connection, a cut link), and so releases the lock.
 * Idle 5 s, then 3 probes 1 s apart; unacknowledged data gives up after 8 s. The holder
 * fences itself sooner (see RoleCoordinator): at most poll + query timeout (3 s) after its
 * last confirmed check, so the two never overlap. Unix-socket connections ignore these (they
 * cannot be half-open).
 */
export const LOCK_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  tcp_keepalives_idle: "5",
  tcp_keepalives_interval: "1",
  tcp_keepalives_count: "3",
  tcp_user_timeout: "8000",
};

/** The notifying role's lock (one implementation per database kind). */
export interface RoleLock {
  /** What it is, for logs: the key and database. */
  readonly description: string;
  /** Tries once; true when this process holds the lock now. Rejects when the database cannot be reached. */
  tryAcquire(): Promise<boolean>;
  /** True while the lock is still held; false (or a rejection) means it is lost. */
  verify(): Promise<boolean>;
  /** Releases the lock (closing its connection) if held; the next tryAcquire starts afresh. */
  release(): Promise<void>;
  /**
   * Called the moment the lock is seen lost without asking (its connection closed or failed:
   * a terminated backend, a restarted PostgreSQL), so the holder fences itself at once.
   */
  onLost(handler: (reason: string) => void): void;
}

/**
 * The notifying role's lock on PostgreSQL: a session-level advisory lock on a dedicated
 * connection (not the pool: a pooled connection is returned and reused, and a session lock
 * must stay with one session). Losing the connection loses the lock.
 */
export class PostgresRoleLock implements RoleLock {
  readonly description: string;
  private client: pg.Client | undefined;
  private held = false;
  private lostHandler: ((reason: string) => void) | undefined;

  constructor(
    private readonly target: Extract<DatabaseTarget, { kind: "postgres" }>,
    private readonly options: { readonly schema?: string; readonly queryTimeoutMs?: number } = {},
  ) {
    this.description = `pg_try_advisory_lock(${ROLE_LOCK_CLASS_ID}, hashtext(${options.schema === undefined ? "current_schema()" : `'${options.schema}'`})) on ${target.display}`;
  }

  onLost(handler: (reason: string) => void): void {
    this.lostHandler = handler;
  }

  async tryAcquire(): Promise<boolean> {
    const client = await this.connection();
    const { rows } = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock($1::int, hashtext(current_schema())) AS locked",
      [ROLE_LOCK_CLASS_ID],
    );
    this.held = rows[0]?.locked === true;
    return this.held;
  }

  async verify(): Promise<boolean> {
    const client = this.client;
    if (client === undefined || !this.held) return false;
    // The session's own lock, as PostgreSQL sees it (the two-key form has objsubid 2).
    const { rows } = await client.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
         AND classid = $1::int::oid AND objid = (hashtext(current_schema())::bigint & 4294967295)::oid
         AND objsubid = 2 AND granted) AS held`,
      [ROLE_LOCK_CLASS_ID],
    );
    return rows[0]?.held === true;
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held = false;
    if (client === undefined) return;
    // Ending the session releases its advisory locks. Not awaited past a short wait: on a
    // dead connection end() may never complete.
    await Promise.race([
      client.end().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
    ]);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    const client = new pg.Client({
      ...pgConnectionConfig(this.target),
      application_name: "osad2-server role lock",
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      query_timeout: this.options.queryTimeoutMs ?? DEFAULT_LOCK_QUERY_TIMEOUT_MS,
    });
    // The connection going away (an error on it, the server closing it) takes the lock with it.
    const gone = (reason: string): void => {
      if (this.client !== client) return;
      const wasHeld = this.held;
      this.client = undefined;
      this.held = false;
      if (wasHeld) this.lostHandler?.(reason);
    };
    client.on("error", (error) => gone(`lock connection failed: ${error.message}`));
    client.on("end", () => gone("lock connection closed"));
    try {
      await client.connect();
      if (this.options.schema !== undefined) {
        await client.query(`SET search_path TO ${client.escapeIdentifier(this.options.schema)}`);
      }
      for (const [name, value] of Object.entries(LOCK_SESSION_SETTINGS)) {
        await client.query(`SET ${name} = ${value}`);
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }
}
