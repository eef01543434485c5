import type { Knex } from "knex";
import { toNumber } from "./internal.js";
import { inList } from "./list-parameter.js";
import { REBOOT_ACTION_LABEL, TABLES } from "./tables.js";
import { fromDbTime, requireDbTime, toDbTime } from "./time.js";
import type { DatabaseKind, DueAction, DueActionsOptions, NextEarliestOptions } from "./types.js";

/**
 * The dispatcher's queries. rhnServerAction grows with every action ever scheduled and Spacewalk
 * has no index on its status, so both due queries start from the push clients and look up
 * their server ids in rhnServerAction's (server_id, action_id) key: the cost follows the
 * clients asked about, not the table's history.
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

/** See SpacewalkStore.dueActions. */
export async function queryDueActions(
  knex: Knex,
  kind: DatabaseKind,
  now: Date,
  options: DueActionsOptions,
): Promise<DueAction[]> {
  if (options.clients?.length === 0) return [];
  const statuses = options.includePickedUp ? [0, 1] : [0];
  const query = knex
    .select(
      "sa.server_id",
      "sa.action_id",
      "sa.status",
      "a.earliest_action",
      "a.created",
      "aty.label as action_type",
      "pc.name as client_name",
    )
    .from({ sa: TABLES.serverAction })
    .join({ a: TABLES.action }, "a.id", "sa.action_id")
    .join({ aty: TABLES.actionType }, "aty.id", "a.action_type")
    .join({ pc: TABLES.pushClient }, "pc.server_id", "sa.server_id");
  const rows = await whereServerOfClients(query, kind, options.clients)
    .whereIn("sa.status", statuses)
    .where("a.earliest_action", "<=", toDbTime(kind, now))
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
    )
    // osa-dispatcher's order: queued work before re-announcements, oldest first.
    .orderBy([
      { column: "sa.status" },
      { column: "a.earliest_action" },
      { column: "sa.server_id" },
      { column: "sa.action_id" },
    ]);
  return rows.map((row: Record<string, unknown>) => {
    const status = toNumber(row.status, "rhnserveraction.status");
    return {
      serverId: toNumber(row.server_id, "rhnserveraction.server_id"),
      actionId: toNumber(row.action_id, "rhnserveraction.action_id"),
      clientName: String(row.client_name),
      status: status === 1 ? 1 : 0,
      earliestAction: requireDbTime(row.earliest_action, "rhnaction.earliest_action"),
      created: requireDbTime(row.created, "rhnaction.created"),
      actionType: String(row.action_type),
    };
  });
}

/** See SpacewalkStore.nextEarliestAction. */
export async function queryNextEarliestAction(
  knex: Knex,
  kind: DatabaseKind,
  now: Date,
  options: NextEarliestOptions,
): Promise<Date | null> {
  if (options.clients?.length === 0) return null;
  const query = knex
    .min({ next: "a.earliest_action" })
    .from({ sa: TABLES.serverAction })
    .join({ a: TABLES.action }, "a.id", "sa.action_id");
  const row = await whereServerOfClients(query, kind, options.clients)
    .where("sa.status", 0)
    .where("a.earliest_action", ">", toDbTime(kind, now))
    .first();
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
