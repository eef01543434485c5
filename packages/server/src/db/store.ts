import type { Knex } from "knex";
import { createKnex, pgConnectionConfig, translateError, unavailableHint } from "./connection.js";
import { retryWhileBusy } from "./busy-retry.js";
import {
  DatabaseConfigError,
  DatabaseSchemaError,
  DatabaseUnavailableError,
  DatabaseWritesFailingError,
} from "./errors.js";
import { rawRows, registerInternals, toNumber } from "./internal.js";
import { inList } from "./list-parameter.js";
import { prepareSqliteFile } from "./sqlite-files.js";
import { watchSqliteCommits } from "./sqlite-wake-ups.js";
import { listenForWakeUps } from "./wake-ups.js";
import { WriteHealth } from "./write-health.js";
import { hasNotifyTrigger, prepareSchema } from "./schema.js";
import {
  queryDueActions,
  queryNextEarliestAction,
  queryRunningSystems,
} from "./dispatch-queries.js";
import { TABLES } from "./tables.js";
import { instantSql, toDbTime } from "./time.js";
import type {
  DatabaseKind,
  DueAction,
  DueActionsOptions,
  NextEarliestOptions,
  PrepareOptions,
  PrepareResult,
  PushClient,
  PushDispatcher,
  SpacewalkStore,
  SpacewalkSystem,
  StoreOptions,
  WakeUpHandler,
  WakeUpMode,
} from "./types.js";
import { readTime, selectInstant, UnreadableTimes } from "./unreadable-times.js";
import { parseDatabaseUrl, type DatabaseTarget } from "./url.js";

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const SYSTEM_ID_NUMBER = /^ID-([0-9]+)$/;

/**
 * Opens a store on `sqlite:/path`, `sqlite::memory:` or `postgres://…`. Nothing is queried yet:
 * call prepare() (schema) or healthCheck() to find out whether the database is reachable.
 * A bad URL or option throws DatabaseConfigError.
 */
export async function openStore(url: string, options: StoreOptions = {}): Promise<SpacewalkStore> {
  const target = parseDatabaseUrl(url);
  if (options.schema !== undefined) {
    if (target.kind !== "postgres") {
      throw new DatabaseConfigError(
        "database_schema",
        "applies to PostgreSQL only; remove it for a sqlite: database",
      );
    }
    if (!SCHEMA_NAME.test(options.schema)) {
      throw new DatabaseConfigError(
        "database_schema",
        `"${options.schema}" is not a plain PostgreSQL identifier (letters, digits, _ and $, not starting with a digit)`,
      );
    }
  }
  if (
    options.poolMax !== undefined &&
    (!Number.isInteger(options.poolMax) || options.poolMax < 1)
  ) {
    throw new DatabaseConfigError(
      "poolMax",
      `must be a positive integer, got ${String(options.poolMax)}`,
    );
  }
  if (target.kind === "sqlite" && target.filename !== ":memory:") {
    // The default /var/lib/osad2/osad2.db lives in a directory a fresh install does not have yet.
    try {
      prepareSqliteFile(target.filename);
    } catch (error) {
      throw new DatabaseUnavailableError(
        target.display,
        `cannot create its directory (${(error as NodeJS.ErrnoException).code ?? String(error)}); ${unavailableHint(target)}`,
        { cause: error },
      );
    }
  }
  return new KnexSpacewalkStore(target, options);
}

interface StateIds {
  readonly online: number;
  readonly offline: number;
}

class KnexSpacewalkStore implements SpacewalkStore {
  readonly kind: DatabaseKind;
  private readonly knex: Knex;
  private stateIds: Promise<StateIds> | undefined;
  private readonly wakeUpSubscriptions = new Set<() => Promise<void>>();
  private closed: Promise<void> | undefined;
  private readonly writes: WriteHealth;
  private readonly unreadable: UnreadableTimes;
  private statements = 0;

  constructor(
    private readonly target: DatabaseTarget,
    private readonly options: StoreOptions,
  ) {
    this.kind = target.kind;
    this.knex = createKnex(target, options);
    this.knex.on("query", () => {
      this.statements += 1;
    });
    this.writes = new WriteHealth(this.knex);
    this.unreadable = new UnreadableTimes(options.logger);
    registerInternals(this, {
      knex: this.knex,
      kind: this.kind,
      target,
      guard: (fn) => this.guard(fn),
    });
  }

  async prepare(options: PrepareOptions = {}): Promise<PrepareResult> {
    const result = await this.guard(() =>
      prepareSchema(this.knex, this.kind, {
        schema: this.options.schema,
        notifyTrigger: options.notifyTrigger === true,
      }),
    );
    this.stateIds = undefined;
    return result;
  }

  dueActions(now: Date, options: DueActionsOptions): Promise<DueAction[]> {
    return this.guard(() => queryDueActions(this.knex, this.kind, now, options, this.unreadable));
  }

  runningSystems(): Promise<number[]> {
    return this.guard(() => queryRunningSystems(this.knex));
  }

  nextEarliestAction(now: Date, options: NextEarliestOptions = {}): Promise<Date | null> {
    return this.guard(() => queryNextEarliestAction(this.knex, this.kind, now, options));
  }

  async findClient(name: string): Promise<PushClient | undefined> {
    const times = ["last_message_time", "last_ping_time", "next_action_time"] as const;
    const row = await this.guard(() =>
      this.knex
        .select(
          "pc.id",
          "pc.name",
          "pc.server_id",
          "st.label as state",
          ...times.map((column) => `pc.${column}`),
          ...(this.kind === "sqlite"
            ? times.map((column) => selectInstant(this.knex, `pc.${column}`, column))
            : []),
        )
        .from({ pc: TABLES.pushClient })
        .join({ st: TABLES.pushClientState }, "st.id", "pc.state_id")
        .where("pc.name", name)
        .first(),
    );
    if (row === undefined) return undefined;
    const r = row as Record<string, unknown>;
    const time = (column: (typeof times)[number]) =>
      readTime(
        this.kind,
        r,
        column,
        { table: "rhnPushClient", row: { name }, consequence: "osad2 reads it as empty" },
        this.unreadable,
      );
    return {
      id: toNumber(r.id, "rhnpushclient.id"),
      name: String(r.name),
      serverId: toNumber(r.server_id, "rhnpushclient.server_id"),
      state: r.state === "online" ? "online" : "offline",
      lastMessageTime: time("last_message_time"),
      lastPingTime: time("last_ping_time"),
      nextActionTime: time("next_action_time"),
    };
  }

  get statementsSent(): number {
    return this.statements;
  }

  async sharedKeyOf(name: string): Promise<string | undefined> {
    const row = await this.guard(() =>
      this.knex.select("shared_key").from(TABLES.pushClient).where("name", name).first(),
    );
    const key = (row as { shared_key?: unknown } | undefined)?.shared_key;
    return typeof key === "string" && key.length > 0 ? key : undefined;
  }

  async sharedKeysOf(names: readonly string[]): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    if (names.length === 0) return keys;
    const rows = await this.guard(() =>
      this.whereNameIn(this.knex(TABLES.pushClient).select("name", "shared_key"), names),
    );
    for (const row of rows as { name: unknown; shared_key: unknown }[]) {
      if (typeof row.shared_key === "string" && row.shared_key.length > 0) {
        keys.set(String(row.name), row.shared_key);
      }
    }
    return keys;
  }

  async markOnline(name: string, at: Date): Promise<boolean> {
    const { online } = await this.states();
    const values = {
      state_id: online,
      last_message_time: toDbTime(this.kind, at),
      last_ping_time: null,
      next_action_time: null,
    };
    return this.guard(async () => {
      // Two single statements instead of read-then-write: each is atomic, so no transaction is held.
      const changed = await this.knex(TABLES.pushClient)
        .where("name", name)
        .whereNot("state_id", online)
        .update(values);
      if (changed > 0) return true;
      await this.knex(TABLES.pushClient).where("name", name).update(values);
      return false;
    });
  }

  async markManyOnline(names: readonly string[], at: Date): Promise<string[]> {
    if (names.length === 0) return [];
    const { online } = await this.states();
    const values = {
      state_id: online,
      last_message_time: toDbTime(this.kind, at),
      last_ping_time: null,
      next_action_time: null,
    };
    return this.guard(async () => {
      // As markOnline, for a whole batch in two statements: the rows not online yet (their
      // names returned), then the others (last_message_time and ping times only change).
      const changed = (await this.whereNameIn(this.knex(TABLES.pushClient), names)
        .whereNot("state_id", online)
        .update(values, ["name"])) as { name: unknown }[];
      const wasOffline = changed.map((row) => String(row.name));
      const came = new Set(wasOffline);
      const rest = names.filter((name) => !came.has(name));
      if (rest.length > 0) {
        await this.whereNameIn(this.knex(TABLES.pushClient), rest).update(values);
      }
      return wasOffline;
    });
  }

  async markOffline(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const { offline } = await this.states();
    // osa-dispatcher's "unavailable": offline with both ping times cleared; a row already
    // offline is a state it did not change, so it is left alone.
    await this.guard(() =>
      this.whereNameIn(this.knex(TABLES.pushClient), names)
        .whereNot("state_id", offline)
        .update({ state_id: offline, last_ping_time: null, next_action_time: null }),
    );
  }

  async refreshMessageTimes(names: readonly string[], at: Date): Promise<number> {
    if (names.length === 0) return 0;
    return this.guard(() =>
      this.whereNameIn(this.knex(TABLES.pushClient), names).update({
        last_message_time: toDbTime(this.kind, at),
      }),
    );
  }

  async existingClientNames(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const rows = await this.guard(() =>
      this.whereNameIn(this.knex(TABLES.pushClient).select("name"), names),
    );
    return rows.map((row: { name: unknown }) => String(row.name));
  }

  async clientNameOf(serverId: number): Promise<string | undefined> {
    const row = await this.guard(() =>
      this.knex(TABLES.pushClient).select("name").where("server_id", serverId).first(),
    );
    const name = (row as { name?: unknown } | undefined)?.name;
    return typeof name === "string" ? name : undefined;
  }

  async onlineClientNames(): Promise<string[]> {
    const { online } = await this.states();
    const rows = await this.guard(() =>
      this.knex(TABLES.pushClient).select("name").where("state_id", online).orderBy("name"),
    );
    return rows.map((row: { name: unknown }) => String(row.name));
  }

  async requestedPings(): Promise<string[]> {
    const { online } = await this.states();
    const rows = await this.guard(() =>
      this.knex(TABLES.pushClient)
        .select("name")
        .where("state_id", online)
        .whereNotNull("last_ping_time")
        .whereNull("next_action_time")
        .orderBy("name"),
    );
    return rows.map((row: { name: unknown }) => String(row.name));
  }

  async setPingDeadline(name: string, deadline: Date): Promise<void> {
    await this.guard(() =>
      this.knex(TABLES.pushClient)
        .where("name", name)
        .update({ next_action_time: toDbTime(this.kind, deadline) }),
    );
  }

  async expiredPingDeadlines(now: Date): Promise<string[]> {
    const { online } = await this.states();
    const at = toDbTime(this.kind, now);
    const deadline = instantSql(this.kind, "next_action_time");
    // Only online clients, like osa-dispatcher's reaper: once marked offline they are not reported again.
    const query = this.knex(TABLES.pushClient)
      .where("state_id", online)
      .whereNotNull("last_ping_time")
      .orderBy("name");
    if (this.kind === "postgres") {
      const rows = await this.guard(() => query.select("name").where("next_action_time", "<", at));
      return rows.map((row: { name: unknown }) => String(row.name));
    }
    // SQLite: the deadline as the instant it names; unreadable ones come back to be reported.
    const rows = await this.guard(() =>
      query
        .select(
          "name",
          "next_action_time",
          selectInstant(this.knex, "next_action_time", "next_action_time"),
        )
        .whereNotNull("next_action_time")
        .whereRaw(`(${deadline} < ? OR ${deadline} IS NULL)`, [at]),
    );
    return (rows as Record<string, unknown>[])
      .filter((row) => {
        const name = String(row.name);
        const source = {
          table: "rhnPushClient",
          row: { name },
          consequence: "its web-UI ping deadline never passes",
        };
        return readTime(this.kind, row, "next_action_time", source, this.unreadable) !== null;
      })
      .map((row) => String(row.name));
  }

  async findSystem(systemId: string): Promise<SpacewalkSystem | undefined> {
    // Spacewalk's rhnServer.get: `ID-<digits>` is the number itself (leading zeros and all), the rest a digital id.
    const byNumber = SYSTEM_ID_NUMBER.exec(systemId);
    const id = byNumber === null ? undefined : Number(byNumber[1]);
    if (id !== undefined && !Number.isSafeInteger(id)) return undefined;
    const row = await this.guard(() =>
      this.knex(TABLES.server)
        .select("id", "digital_server_id", "name", "secret")
        .where(id === undefined ? { digital_server_id: systemId } : { id })
        .first(),
    );
    if (row === undefined) return undefined;
    const r = row as Record<string, unknown>;
    return {
      id: toNumber(r.id, "rhnserver.id"),
      digitalServerId: String(r.digital_server_id),
      name: r.name === null || r.name === undefined ? "" : String(r.name),
      secret: String(r.secret),
    };
  }

  async recordCheckin(serverId: number, at: Date): Promise<void> {
    // Spacewalk's server.checkin(): an update only; Spacewalk creates the row when it registers the system.
    await this.guard(() =>
      this.knex(TABLES.serverInfo)
        .where("server_id", serverId)
        .update({
          checkin: toDbTime(this.kind, at),
          checkin_counter: this.knex.raw("coalesce(checkin_counter, 0) + 1"),
        }),
    );
  }

  async registerPushClient(
    serverId: number,
    client: { readonly name: string; readonly sharedKey: string },
  ): Promise<void> {
    const { offline } = await this.states();
    const attempt = () =>
      this.knex.transaction(async (trx) => {
        // Spacewalk's update_push_client_registration: update, insert when there was no row.
        const updated = await trx(TABLES.pushClient).where("server_id", serverId).update({
          name: client.name,
          shared_key: client.sharedKey,
          state_id: offline,
          next_action_time: null,
          last_ping_time: null,
        });
        if (updated > 0) return;
        await trx(TABLES.pushClient).insert({
          ...(this.kind === "postgres" ? { id: trx.raw("nextval('rhn_pclient_id_seq')") } : {}),
          server_id: serverId,
          name: client.name,
          shared_key: client.sharedKey,
          state_id: offline,
        });
      });
    await this.guard(async () => {
      try {
        await attempt();
      } catch (error) {
        // Two first registrations of one system raced and the other inserted: now the update path applies.
        if (!isUniqueViolation(error)) throw error;
        await attempt();
      }
    });
  }

  async registerPushClientJid(serverId: number, jabberId: string): Promise<void> {
    await this.guard(() =>
      this.knex.transaction(async (trx) => {
        await trx(TABLES.pushClient)
          .where("jabber_id", jabberId)
          .whereNot("server_id", serverId)
          .update({ jabber_id: null });
        await trx(TABLES.pushClient)
          .where("server_id", serverId)
          .update({ jabber_id: jabberId, next_action_time: null, last_ping_time: null });
      }),
    );
  }

  async pushDispatchers(): Promise<PushDispatcher[]> {
    const rows = await this.guard(() =>
      this.knex(TABLES.pushDispatcher).select("jabber_id", "hostname").orderBy("id"),
    );
    return rows.map((row: { jabber_id: unknown; hostname: unknown }) => ({
      jabberId: String(row.jabber_id),
      hostname: String(row.hostname),
    }));
  }

  async subscribeWakeUps(handler: WakeUpHandler): Promise<() => Promise<void>> {
    let stop: () => Promise<void>;
    if (this.target.kind === "postgres") {
      stop = await listenForWakeUps(this.target, pgConnectionConfig(this.target), handler);
    } else if (this.target.filename !== ":memory:") {
      stop = await watchSqliteCommits({
        filename: this.target.filename,
        dataVersion: () => this.dataVersion(),
        handler,
      });
    } else {
      return async () => undefined;
    }
    const tracked = async () => {
      this.wakeUpSubscriptions.delete(tracked);
      await stop();
    };
    this.wakeUpSubscriptions.add(tracked);
    return tracked;
  }

  async wakeUpMode(): Promise<WakeUpMode> {
    if (this.target.kind === "postgres") {
      return { kind: "notify", trigger: await this.guard(() => hasNotifyTrigger(this.knex)) };
    }
    return this.target.filename === ":memory:"
      ? { kind: "none" }
      : { kind: "watch", file: this.target.filename };
  }

  async healthCheck(): Promise<void> {
    await this.guard(() => this.knex.raw("select 1"));
    // A full disk or a held lock still answers `select 1`: the last writes tell.
    const problem = this.writes.problem();
    if (problem !== undefined) {
      throw new DatabaseWritesFailingError(
        this.target.display,
        problem.kind,
        problem.since,
        problem.message,
      );
    }
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.all([...this.wakeUpSubscriptions].map((stop) => stop()));
      await this.knex.destroy();
    })();
    return this.closed;
  }

  /** `name` in the list, as one bound parameter ({@link inList}). */
  private whereNameIn<Q extends Knex.QueryBuilder>(query: Q, names: readonly string[]): Q {
    const condition = inList(this.kind, "name", names);
    return query.whereRaw(condition.sql, [condition.binding]) as Q;
  }

  /** SQLite's data_version on the store's one connection (changes on other connections' commits). */
  private async dataVersion(): Promise<number> {
    const rows = rawRows<{ data_version: unknown }>(
      await this.guard(() => this.knex.raw("PRAGMA data_version")),
    );
    return toNumber(rows[0]?.data_version, "data_version");
  }

  /** rhnPushClientState ids by label, looked up once (Spacewalk assigns them from a sequence). */
  private states(): Promise<StateIds> {
    this.stateIds ??= this.guard(async () => {
      const rows = await this.knex(TABLES.pushClientState)
        .select("id", "label")
        .whereIn("label", ["online", "offline"]);
      const byLabel = new Map(
        rows.map((row: { id: unknown; label: unknown }) => [
          String(row.label),
          toNumber(row.id, "rhnpushclientstate.id"),
        ]),
      );
      const online = byLabel.get("online");
      const offline = byLabel.get("offline");
      if (online === undefined || offline === undefined) {
        throw new DatabaseSchemaError(
          "rhnPushClientState lacks the 'online' and 'offline' labels Spacewalk seeds; run `osad2-server init` on a standalone database",
          [],
        );
      }
      return { online, offline };
    }).catch((error: unknown) => {
      this.stateIds = undefined;
      throw error;
    });
    return this.stateIds;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return this.kind === "sqlite" ? await retryWhileBusy(fn) : await fn();
    } catch (error) {
      throw translateError(error, this.target);
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === "23505" ||
    code === "SQLITE_CONSTRAINT_UNIQUE" ||
    code === "SQLITE_CONSTRAINT_PRIMARYKEY"
  );
}
