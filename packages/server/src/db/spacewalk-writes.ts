import { beginWrite, internalsOf, rawRows, toNumber } from "./internal.js";
import type { Knex } from "knex";
import { FIRST_SERVER_ID, SEQUENCES, TABLES, TRIAL_SERVER_ARCH_ID } from "./tables.js";
import { toDbTime } from "./time.js";
import type { DatabaseKind, SpacewalkStore } from "./types.js";

/** Seeding named a server architecture Spacewalk's rhnServerArch does not list. */
export class UnknownServerArchError extends Error {
  override readonly name = "UnknownServerArchError";
  readonly label: string;

  constructor(label: string, options?: { cause?: unknown }) {
    super(
      `rhnServerArch has no architecture "${label}"; pass one of its labels (e.g. x86_64-redhat-linux)`,
      options,
    );
    this.label = label;
  }
}

/** An rhnServer row to insert. */
export interface SystemRow {
  /** rhnServer.id; undefined = the next one (rhn_server_id_seq on PostgreSQL, from 1000010000). */
  readonly id: number | undefined;
  readonly orgId: number;
  readonly name: string;
  readonly secret: string;
  readonly os: string;
  readonly release: string;
  /** rhnServerArch label, e.g. x86_64-redhat-linux (looked up where Spacewalk's table exists). */
  readonly architecture: string;
}

/** An rhnAction to insert, queued (status 0) for each of `serverIds`. */
export interface ActionRow {
  readonly serverIds: readonly number[];
  /** rhnActionType label. */
  readonly type: string;
  readonly name: string;
  readonly earliest: Date;
  readonly prerequisite: number | null;
}

/** What {@link SpacewalkWrites.insertAction} did; nothing is written unless `inserted`. */
export type InsertActionResult =
  | { readonly kind: "inserted"; readonly actionId: number }
  | { readonly kind: "unknown-action-type"; readonly knownTypes: readonly string[] }
  | { readonly kind: "unknown-server"; readonly missingServerIds: readonly number[] };

/**
 * The rows Spacewalk itself writes when a system registers and when an administrator
 * schedules an action, for the seeding tooling of `@osad2/server/testing` (standalone trials
 * and tests). The server never calls these: against a real Spacewalk, Spacewalk does.
 */
export interface SpacewalkWrites {
  /** Inserts an rhnServer row (digital_server_id `ID-<id>`); returns its id. */
  insertSystem(row: SystemRow): Promise<number>;
  /** Inserts the rhnAction and its rhnServerAction rows in one transaction. */
  insertAction(row: ActionRow): Promise<InsertActionResult>;
  /** Moves one rhnServerAction row to a status (pickup_time / completion_time as rhn_check does); false when there is no such row. */
  updateServerActionStatus(
    serverId: number,
    actionId: number,
    status: 0 | 1 | 2 | 3,
  ): Promise<boolean>;
}

/**
 * rhnServer.server_arch_id for an architecture label: Spacewalk's rhnServerArch id where that
 * table exists, TRIAL_SERVER_ARCH_ID in osad2's own schema (which has none).
 */
async function serverArchId(
  trx: Knex.Transaction,
  kind: DatabaseKind,
  label: string,
): Promise<number> {
  const exists =
    kind === "postgres"
      ? await trx.raw("SELECT to_regclass('rhnserverarch') IS NOT NULL AS present")
      : await trx.raw(
          "SELECT count(*) > 0 AS present FROM sqlite_master WHERE name = 'rhnserverarch'",
        );
  const present = rawRows<{ present: unknown }>(exists)[0]?.present;
  if (present !== true && present !== 1) return TRIAL_SERVER_ARCH_ID;
  const row = (await trx("rhnserverarch").select("id").where("label", label).first()) as
    { id: unknown } | undefined;
  if (row === undefined) throw new UnknownServerArchError(label);
  return toNumber(row.id, "rhnserverarch.id");
}

/** Largest INSERT batch of rhnServerAction rows. */
const INSERT_CHUNK = 500;

/** The writes of a store returned by openStore(). */
export function spacewalkWrites(store: SpacewalkStore): SpacewalkWrites {
  const { knex, kind, guard } = internalsOf(store);
  return {
    insertSystem: (row) =>
      guard(() =>
        knex.transaction(async (trx) => {
          await beginWrite(trx, kind);
          let serverId = row.id;
          if (serverId === undefined) {
            if (kind === "postgres") {
              const result = await trx.raw(`SELECT nextval('${SEQUENCES.server}') AS id`);
              serverId = toNumber(rawRows<{ id: unknown }>(result)[0]?.id, "nextval");
            } else {
              const max = (await trx(TABLES.server).max({ id: "id" }).first()) as
                { id?: unknown } | undefined;
              serverId =
                max?.id === null || max?.id === undefined
                  ? FIRST_SERVER_ID
                  : toNumber(max.id, "rhnserver.id") + 1;
            }
          }
          await trx(TABLES.server).insert({
            id: serverId,
            org_id: row.orgId,
            digital_server_id: `ID-${serverId}`,
            server_arch_id: await serverArchId(trx, kind, row.architecture),
            os: row.os,
            release: row.release,
            name: row.name,
            secret: row.secret,
          });
          // Spacewalk's registration creates the row its check-ins update.
          await trx(TABLES.serverInfo).insert({
            server_id: serverId,
            checkin: toDbTime(kind, new Date()),
            checkin_counter: 0,
          });
          return serverId;
        }),
      ),

    insertAction: (row) =>
      guard(() =>
        knex.transaction(async (trx): Promise<InsertActionResult> => {
          await beginWrite(trx, kind);
          const type = (await trx(TABLES.actionType)
            .select("id")
            .where("label", row.type)
            .first()) as { id: unknown } | undefined;
          if (type === undefined) {
            const known = (await trx(TABLES.actionType).select("label").orderBy("id")) as {
              label: string;
            }[];
            return { kind: "unknown-action-type", knownTypes: known.map((k) => k.label) };
          }
          const servers = (await trx(TABLES.server)
            .select("id", "org_id")
            .whereIn("id", [...row.serverIds])) as { id: unknown; org_id: unknown }[];
          const found = new Set(servers.map((s) => toNumber(s.id, "rhnserver.id")));
          const missing = row.serverIds.filter((id) => !found.has(id));
          if (missing.length > 0) return { kind: "unknown-server", missingServerIds: missing };
          const values = {
            org_id: servers[0] === undefined ? 1 : toNumber(servers[0].org_id, "rhnserver.org_id"),
            action_type: type.id,
            name: row.name,
            earliest_action: toDbTime(kind, row.earliest),
            prerequisite: row.prerequisite,
            // What Spacewalk's ActionManager writes.
            version: 2,
            archived: 0,
          };
          let actionId: number;
          if (kind === "postgres") {
            const result = await trx.raw(`SELECT nextval('${SEQUENCES.action}') AS id`);
            actionId = toNumber(rawRows<{ id: unknown }>(result)[0]?.id, "nextval");
            await trx(TABLES.action).insert({ id: actionId, ...values });
          } else {
            const [inserted] = await trx(TABLES.action).insert(values);
            actionId = toNumber(inserted, "rhnaction.id");
          }
          const rows = row.serverIds.map((serverId) => ({
            server_id: serverId,
            action_id: actionId,
            status: 0,
            remaining_tries: 10,
          }));
          for (let i = 0; i < rows.length; i += INSERT_CHUNK)
            await trx(TABLES.serverAction).insert(rows.slice(i, i + INSERT_CHUNK));
          return { kind: "inserted", actionId };
        }),
      ),

    async updateServerActionStatus(serverId, actionId, status) {
      const now = toDbTime(kind, new Date());
      const updated = await guard(() =>
        knex(TABLES.serverAction)
          .where({ server_id: serverId, action_id: actionId })
          .update({
            status,
            modified: now,
            ...(status === 1 ? { pickup_time: now } : {}),
            ...(status >= 2 ? { completion_time: now } : {}),
          }),
      );
      return updated > 0;
    },
  };
}
