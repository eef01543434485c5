import { internalsOf, toNumber } from "./internal.js";
import { inList } from "./list-parameter.js";
import { TABLES } from "./tables.js";
import { fromDbTime, instantSql } from "./time.js";
import { readTime, selectInstant, UnreadableTimes } from "./unreadable-times.js";
import type { PushClientState, SpacewalkStore } from "./types.js";

/**
 * Read-only look-ups for `osad2-server doctor` and `systems`: a system with its push client,
 * and the rows that explain why an action is or is not due. Who is due is never decided here
 * (that is SpacewalkStore.dueActions, the dispatcher's own query); these only describe.
 */

/** One rhnServer row with its rhnPushClient row, if any. */
export interface SystemRecord {
  readonly serverId: number;
  /** rhnServer.name, the profile name. */
  readonly profileName: string;
  readonly pushClient: {
    readonly name: string;
    readonly state: PushClientState;
    readonly lastMessageTime: Date | null;
    /** When the row last changed (register_osad gives a new name): rhnPushClient.modified. */
    readonly modified: Date | null;
  } | null;
}

/** One queued or picked-up rhnServerAction of a system, with what may hold it. */
export interface PendingAction {
  readonly actionId: number;
  readonly status: 0 | 1;
  readonly actionType: string;
  readonly name: string | null;
  /** null: SQLite cannot read the stored text (the due query never takes such an action). */
  readonly earliestAction: Date | null;
  /** The stored earliest_action as read, to show when it is unreadable. */
  readonly earliestActionText: string;
  readonly created: Date | null;
  readonly pickupTime: Date | null;
  /** rhnAction.prerequisite, and this system's status of it (null: no row for this system). */
  readonly prerequisite: { readonly actionId: number; readonly status: number | null } | null;
}

/** The current status of one of a system's actions (to tell whether a checkin was picked up). */
export interface ActionStatus {
  readonly actionId: number;
  readonly status: number;
  readonly pickupTime: Date | null;
  readonly completionTime: Date | null;
}

/** The look-ups, bound to one open store. */
export interface DiagnosisStore {
  /** Systems matching a server id, a push client name or a profile name (several may share one). */
  findSystems(reference: string): Promise<SystemRecord[]>;
  /** Systems by server id (those that exist). */
  systemsById(serverIds: readonly number[]): Promise<SystemRecord[]>;
  /** Systems by push client name (those that exist). */
  systemsByClient(clientNames: readonly string[]): Promise<SystemRecord[]>;
  /** Status 0 and 1 actions of a system, oldest earliest_action first. */
  pendingActions(serverId: number): Promise<PendingAction[]>;
  /** The current rows of these actions for this system. */
  actionStatuses(serverId: number, actionIds: readonly number[]): Promise<ActionStatus[]>;
}

const DIGITS = /^[0-9]{1,15}$/;

/** The diagnosis look-ups on a store returned by openStore(). */
export function diagnosisStore(store: SpacewalkStore): DiagnosisStore {
  const { knex, kind, guard } = internalsOf(store);
  // The running server logs unreadable times; doctor shows them in its report instead.
  const quiet = new UnreadableTimes(undefined);
  const systems = (where: (q: ReturnType<typeof base>) => unknown): Promise<SystemRecord[]> =>
    guard(async () => {
      const query = base();
      where(query);
      const rows = (await query.orderBy("s.id")) as Record<string, unknown>[];
      return rows.map(toSystem);
    });
  const base = () =>
    knex
      .select(
        "s.id",
        "s.name as profile_name",
        "pc.name as client_name",
        "st.label as state",
        "pc.last_message_time",
        "pc.modified",
      )
      .from({ s: TABLES.server })
      .leftJoin({ pc: TABLES.pushClient }, "pc.server_id", "s.id")
      .leftJoin({ st: TABLES.pushClientState }, "st.id", "pc.state_id");
  return {
    findSystems: (reference) =>
      systems((q) =>
        q.where((w) => {
          if (DIGITS.test(reference)) w.orWhere("s.id", Number(reference));
          w.orWhere("pc.name", reference).orWhere("s.name", reference);
        }),
      ),
    systemsById: (ids) =>
      ids.length === 0 ? Promise.resolve([]) : systems((q) => q.whereIn("s.id", [...ids])),
    systemsByClient: (names) => {
      const list = inList(kind, "pc.name", names);
      return names.length === 0
        ? Promise.resolve([])
        : systems((q) => q.whereRaw(list.sql, [list.binding]));
    },
    pendingActions: (serverId) =>
      guard(async () => {
        const rows = (await knex
          .select(
            "sa.action_id",
            "sa.status",
            "sa.pickup_time",
            "sa.created",
            "a.earliest_action",
            "a.name",
            "a.prerequisite",
            "aty.label as action_type",
            "sap.status as prerequisite_status",
            // As the due query reads it: the instant SQLite takes from the text.
            ...(kind === "sqlite"
              ? [selectInstant(knex, "a.earliest_action", "earliest_action")]
              : []),
          )
          .from({ sa: TABLES.serverAction })
          .join({ a: TABLES.action }, "a.id", "sa.action_id")
          .join({ aty: TABLES.actionType }, "aty.id", "a.action_type")
          .leftJoin({ sap: TABLES.serverAction }, (j) =>
            j
              .on("sap.action_id", "=", "a.prerequisite")
              .andOn("sap.server_id", "=", "sa.server_id"),
          )
          .where("sa.server_id", serverId)
          .whereIn("sa.status", [0, 1])
          // As the due query orders: the instant SQLite reads from the text, not the text.
          .orderByRaw(`${instantSql(kind, "a.earliest_action")}, sa.action_id`)) as Record<
          string,
          unknown
        >[];
        return rows.map((row) => {
          const prerequisite =
            row.prerequisite === null || row.prerequisite === undefined
              ? null
              : {
                  actionId: toNumber(row.prerequisite, "rhnaction.prerequisite"),
                  status:
                    row.prerequisite_status === null || row.prerequisite_status === undefined
                      ? null
                      : toNumber(row.prerequisite_status, "rhnserveraction.status"),
                };
          return {
            actionId: toNumber(row.action_id, "rhnserveraction.action_id"),
            status: toNumber(row.status, "rhnserveraction.status") === 1 ? 1 : 0,
            actionType: String(row.action_type),
            name: typeof row.name === "string" ? row.name : null,
            earliestAction: readTime(
              kind,
              row,
              "earliest_action",
              {
                table: "rhnAction",
                row: { id: String(row.action_id) },
                consequence: "the action is not due",
              },
              quiet,
            ),
            earliestActionText: String(row.earliest_action),
            created: fromDbTime(row.created),
            pickupTime: fromDbTime(row.pickup_time),
            prerequisite,
          } satisfies PendingAction;
        });
      }),
    actionStatuses: (serverId, actionIds) =>
      actionIds.length === 0
        ? Promise.resolve([])
        : guard(async () => {
            const rows = (await knex
              .select("action_id", "status", "pickup_time", "completion_time")
              .from(TABLES.serverAction)
              .where("server_id", serverId)
              .whereIn("action_id", [...actionIds])) as Record<string, unknown>[];
            return rows.map((row) => ({
              actionId: toNumber(row.action_id, "rhnserveraction.action_id"),
              status: toNumber(row.status, "rhnserveraction.status"),
              pickupTime: fromDbTime(row.pickup_time),
              completionTime: fromDbTime(row.completion_time),
            }));
          }),
  };
}

function toSystem(row: Record<string, unknown>): SystemRecord {
  const clientName = row.client_name;
  return {
    serverId: toNumber(row.id, "rhnserver.id"),
    profileName:
      row.profile_name === null || row.profile_name === undefined ? "" : String(row.profile_name),
    pushClient:
      typeof clientName === "string"
        ? {
            name: clientName,
            state: row.state === "online" ? "online" : "offline",
            lastMessageTime: fromDbTime(row.last_message_time),
            modified: fromDbTime(row.modified),
          }
        : null,
  };
}
