import type { Knex } from "knex";
import { toNumber } from "./internal.js";
import { inList } from "./list-parameter.js";
import { REBOOT_ACTION_LABEL, TABLES } from "./tables.js";
import { fromDbTime, instantSql, toDbTime } from "./time.js";
import type { DatabaseKind, DueAction, DueActionsOptions, NextEarliestOptions } from "./types.js";
import { readTime, selectInstant, type UnreadableTimes } from "./unreadable-times.js";

/**
 * The dispatcher's queries. rhnServerAction grows with every action ever scheduled and Spacewalk
 * has no index on its status, so both due queries start from the push clients and look up
 * their server ids in rhnServerAction's (server_id, action_id) key: the cost follows the
 * clients asked about, not the table's history.
 *
 * On SQLite earliest_action is compared and ordered as the instant SQLite reads from its text
 * (instantSql), whatever form another tool wrote it in; it is not indexed in either schema, so
 * this costs one strftime per candidate row (the clients' status 0/1 rows), not a scan.
 */

/**
 * `sa.server_id` restricted to the push clients' server ids (all, or those named). On PostgreSQL
 * the ids come from an InitPlan (`= ANY(ARRAY(SELECT …))`): the planner cannot see how many
 * there will be, so it takes the index whether 50 or 15,000 clients are asked about, where
 * a join would switch to a sequential scan of rhnServerAction as soon as many systems have a
 * push client. SQLite looks each id of the IN list up in the key.
 */
function whereServerOfClients(
  query: Knex.QueryBuilder,
  kind: DatabaseKind,
  clients: readonly string[] | undefined,
): Knex.QueryBuilder {
  const pc = TABLES.pushClient;
  const named = clients === undefined ? undefined : inList(kind, "name", clients);
  const fromClients =
    named === undefined
      ? `SELECT server_id FROM ${pc}`
      : `SELECT server_id FROM ${pc} WHERE ${named.sql}`;
  const bindings: Knex.RawBinding[] = named === undefined ? [] : [named.binding];
  return kind === "postgres"
    ? query.whereRaw(`sa.server_id = ANY(ARRAY(${fromClients}))`, bindings)
    : query.whereRaw(`sa.server_id IN (${fromClients})`, bindings);
}

/** See SpacewalkStore.dueActions. Rows whose earliest_action SQLite cannot read are reported and not due. */
export async function queryDueActions(
  knex: Knex,
  kind: DatabaseKind,
  now: Date,
  options: DueActionsOptions,
  unreadable: UnreadableTimes,
): Promise<DueAction[]> {
  if (options.clients?.length === 0) return [];
  const statuses = options.includePickedUp ? [0, 1] : [0];
  const sqlite = kind === "sqlite";
  const earliest = instantSql(kind, "a.earliest_action");
  const query = knex
    .select(
      "sa.server_id",
      "sa.action_id",
      "sa.status",
      "a.earliest_action",
      "a.created",
      "aty.label as action_type",
      "pc.name as client_name",
      ...(sqlite
        ? [
            selectInstant(knex, "a.earliest_action", "earliest_action"),
            selectInstant(knex, "a.created", "created"),
          ]
        : []),
    )
    .from({ sa: TABLES.serverAction })
    .join({ a: TABLES.action }, "a.id", "sa.action_id")
    .join({ aty: TABLES.actionType }, "aty.id", "a.action_type")
    .join({ pc: TABLES.pushClient }, "pc.server_id", "sa.server_id");
  const candidates = whereServerOfClients(query, kind, options.clients).whereIn(
    "sa.status",
    statuses,
  );
  const timed = sqlite
    ? // Unreadable values come back too, to be reported (below) rather than silently never due.
      candidates.whereRaw(`(${earliest} <= ? OR ${earliest} IS NULL)`, [toDbTime(kind, now)])
    : candidates.where("a.earliest_action", "<=", toDbTime(kind, now));
  const filtered = timed
    // osa-dispatcher's rule: blocked only while the prerequisite's row for this server is not completed.
    .whereNotExists((q) =>
      q
        .select(knex.raw("1"))
        .from({ sap: TABLES.serverAction })
        .whereRaw("sap.server_id = sa.server_id")
        .whereRaw("sap.action_id = a.prerequisite")
        .whereNot("sap.status", 2),
    )
    .whereNotExists((q) =>
      q
        .select(knex.raw("1"))
        .from({ sr: TABLES.serverAction })
        .join({ ra: TABLES.action }, "ra.id", "sr.action_id")
        .join({ rt: TABLES.actionType }, "rt.id", "ra.action_type")
        .whereRaw("sr.server_id = sa.server_id")
        .where("sr.status", 1)
        .where("rt.label", REBOOT_ACTION_LABEL),
    );
  // osa-dispatcher's order: queued work before re-announcements, oldest first.
  const rows = await (sqlite
    ? filtered
        .orderBy("sa.status")
        .orderByRaw(`${earliest} asc`)
        .orderBy("sa.server_id")
        .orderBy("sa.action_id")
    : filtered.orderBy([
        { column: "sa.status" },
        { column: "a.earliest_action" },
        { column: "sa.server_id" },
        { column: "sa.action_id" },
      ]));
  const due: DueAction[] = [];
  for (const row of rows as Record<string, unknown>[]) {
    const status = toNumber(row.status, "rhnserveraction.status");
    const actionId = toNumber(row.action_id, "rhnserveraction.action_id");
    const action = { table: "rhnAction", row: { id: actionId } };
    const earliestAction = readTime(
      kind,
      row,
      "earliest_action",
      { ...action, consequence: "the action is not due and wakes nothing" },
      unreadable,
    );
    if (earliestAction === null) continue;
    // created only feeds the latency histogram: an unreadable one must not hold the action back.
    const created =
      readTime(
        kind,
        row,
        "created",
        { ...action, consequence: "its checkin latency counts from earliest_action" },
        unreadable,
      ) ?? earliestAction;
    due.push({
      serverId: toNumber(row.server_id, "rhnserveraction.server_id"),
      actionId,
      clientName: String(row.client_name),
      status: status === 1 ? 1 : 0,
      earliestAction,
      created,
      actionType: String(row.action_type),
    });
  }
  return due;
}

/** See SpacewalkStore.nextEarliestAction. Unreadable earliest_action values are left out (dueActions reports them). */
export async function queryNextEarliestAction(
  knex: Knex,
  kind: DatabaseKind,
  now: Date,
  options: NextEarliestOptions,
): Promise<Date | null> {
  if (options.clients?.length === 0) return null;
  const sqlite = kind === "sqlite";
  const earliest = instantSql(kind, "a.earliest_action");
  const next: Knex.QueryBuilder = sqlite
    ? knex.select(knex.raw(`min(${earliest}) as next`))
    : knex.min({ next: "a.earliest_action" });
  const query = next
    .from({ sa: TABLES.serverAction })
    .join({ a: TABLES.action }, "a.id", "sa.action_id");
  const candidates = whereServerOfClients(query, kind, options.clients).where("sa.status", 0);
  const row = await (
    sqlite
      ? candidates.whereRaw(`${earliest} > ?`, [toDbTime(kind, now)])
      : candidates.where("a.earliest_action", ">", toDbTime(kind, now))
  ).first();
  return fromDbTime((row as { next?: unknown } | undefined)?.next);
}

/**
 * osa-dispatcher's `count(distinct server_id) … where status = 1` over every system. Without
 * an index on status this reads the whole table, so the dispatcher asks only when a round
 * would take a throttle slot.
 */
export async function queryRunningSystems(knex: Knex): Promise<number[]> {
  const rows = await knex(TABLES.serverAction).distinct("server_id").where("status", 1);
  return rows.map((row: { server_id: unknown }) =>
    toNumber(row.server_id, "rhnserveraction.server_id"),
  );
}
