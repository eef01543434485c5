import type { Knex } from "knex";
import { SQLITE_NOW } from "./time.js";
import {
  ACTION_STATUSES,
  ACTION_TYPES,
  FIRST_SERVER_ID,
  PUSH_CLIENT_STATES,
  SEQUENCES,
  TABLES,
  TRIAL_SERVER_ARCH_ID,
} from "./tables.js";
import type { DatabaseKind } from "./types.js";

/**
 * knex migrations for the standalone schema, embedded in code (not files) so they run from the
 * bundled dist/ as well as from source. They create Spacewalk's own tables, columns, constraint
 * names and sequences for the subset osad2 uses; an existing Spacewalk database never sees them.
 */
interface EmbeddedMigration {
  readonly name: string;
  /**
   * Run outside a transaction on SQLite: knex alters a column there by copying the table, and
   * only outside a transaction can it switch foreign keys off for the copy (rows of other tables
   * point into it meanwhile). Default false.
   */
  readonly sqliteWithoutTransaction?: boolean;
  up(knex: Knex, kind: DatabaseKind): Promise<void>;
  down(knex: Knex, kind: DatabaseKind): Promise<void>;
}

/** Column helpers giving Spacewalk's PostgreSQL types, or the nearest SQLite affinity. */
function columns(knex: Knex, kind: DatabaseKind) {
  const pg = kind === "postgres";
  const now = knex.raw(pg ? "current_timestamp" : SQLITE_NOW);
  return {
    /** numeric id; on SQLite an INTEGER PRIMARY KEY so rowids are assigned. */
    id(t: Knex.CreateTableBuilder, constraintName: string) {
      t.specificType("id", pg ? "numeric" : "integer")
        .notNullable()
        .primary(constraintName);
    },
    number(t: Knex.CreateTableBuilder, name: string) {
      return t.specificType(name, pg ? "numeric" : "integer");
    },
    time(t: Knex.CreateTableBuilder, name: string) {
      return t.specificType(name, pg ? "timestamptz" : "text");
    },
    timeNow(t: Knex.CreateTableBuilder, name: string) {
      return t
        .specificType(name, pg ? "timestamptz" : "text")
        .notNullable()
        .defaultTo(now);
    },
  };
}

const spacewalkSubset: EmbeddedMigration = {
  name: "0001_spacewalk_subset",
  async up(knex, kind) {
    const c = columns(knex, kind);
    const pg = kind === "postgres";
    if (pg) {
      await knex.raw(`CREATE SEQUENCE ${SEQUENCES.server} START WITH ${FIRST_SERVER_ID}`);
      for (const name of [
        SEQUENCES.action,
        SEQUENCES.pushClient,
        SEQUENCES.pushClientState,
        SEQUENCES.pushDispatcher,
      ]) {
        await knex.raw(`CREATE SEQUENCE ${name}`);
      }
    }

    await knex.schema.createTable(TABLES.server, (t) => {
      c.id(t, "rhn_server_id_pk");
      c.number(t, "org_id").notNullable();
      t.string("digital_server_id", 64).notNullable().unique({ indexName: "rhn_server_dsid_uq" });
      t.string("os", 64);
      t.string("release", 64);
      t.string("name", 128);
      t.string("description", 256);
      t.string("info", 128);
      t.string("secret", 64).notNullable();
      c.timeNow(t, "created");
      c.timeNow(t, "modified");
    });

    await knex.schema.createTable(TABLES.actionType, (t) => {
      c.id(t, "rhn_action_type_pk");
      t.string("label", 48).notNullable().unique({ indexName: "rhn_action_type_label_uq" });
      t.string("name", 100).notNullable().unique({ indexName: "rhn_action_type_name_uq" });
      t.specificType("trigger_snapshot", "char(1)").notNullable().defaultTo("N");
      t.specificType("unlocked_only", "char(1)").notNullable().defaultTo("N");
    });

    await knex.schema.createTable(TABLES.actionStatus, (t) => {
      c.id(t, "rhn_action_status_pk");
      t.string("name", 16);
      c.timeNow(t, "created");
      c.timeNow(t, "modified");
    });

    await knex.schema.createTable(TABLES.action, (t) => {
      c.id(t, "rhn_action_pk");
      c.number(t, "org_id").notNullable();
      c.number(t, "action_type")
        .notNullable()
        .references("id")
        .inTable(TABLES.actionType)
        .withKeyName("rhn_action_at_fk");
      t.string("name", 128);
      c.number(t, "scheduler");
      c.time(t, "earliest_action").notNullable();
      c.number(t, "version").notNullable().defaultTo(0);
      c.number(t, "archived").notNullable().defaultTo(0);
      c.number(t, "prerequisite")
        .references("id")
        .inTable(TABLES.action)
        .onDelete("CASCADE")
        .withKeyName("rhn_action_prereq_fk");
      c.timeNow(t, "created");
      c.timeNow(t, "modified");
      t.check("?? in (0, 1)", ["archived"], "rhn_action_archived_ck");
      t.index(["prerequisite", "id"], "rhn_action_prereq_id_idx");
    });

    await knex.schema.createTable(TABLES.serverAction, (t) => {
      c.number(t, "server_id")
        .notNullable()
        .references("id")
        .inTable(TABLES.server)
        .withKeyName("rhn_server_action_sid_fk");
      c.number(t, "action_id")
        .notNullable()
        .references("id")
        .inTable(TABLES.action)
        .onDelete("CASCADE")
        .withKeyName("rhn_server_action_aid_fk");
      c.number(t, "status")
        .notNullable()
        .references("id")
        .inTable(TABLES.actionStatus)
        .withKeyName("rhn_server_action_status_fk");
      c.number(t, "result_code");
      t.string("result_msg", 1024);
      c.time(t, "pickup_time");
      c.number(t, "remaining_tries").notNullable().defaultTo(5);
      c.time(t, "completion_time");
      c.timeNow(t, "created");
      c.timeNow(t, "modified");
      t.primary(["server_id", "action_id"], "rhn_server_action_sid_aid_uq");
      t.index(["action_id"], "rhn_ser_act_aid_idx");
      t.index(["server_id", "action_id", "status"], "rhn_ser_act_sid_aid_s_idx");
    });

    await knex.schema.createTable(TABLES.pushClientState, (t) => {
      c.id(t, "rhn_pclient_state_id_pk");
      t.string("label", 64).notNullable().unique({ indexName: "rhn_pclient_state_label_uq" });
      t.string("name", 256).notNullable().unique({ indexName: "rhn_pclient_state_name_uq" });
      c.timeNow(t, "created");
      c.timeNow(t, "modified");
    });

    await knex.schema.createTable(TABLES.pushClient, (t) => {
      c.id(t, "rhn_pclient_id_pk");
      t.string("name", 64).notNullable().unique({ indexName: "rhn_pclient_name_uq" });
      c.number(t, "server_id").notNullable().unique({ indexName: "rhn_pclient_sid_uq" });
      t.string("jabber_id", 128);
      t.string("shared_key", 64).notNullable();
      c.number(t, "state_id")
        .notNullable()
        .references("id")
        .inTable(TABLES.pushClientState)
        .withKeyName("rhn_pclient_stid_fk");
      c.time(t, "next_action_time");
      c.time(t, "last_message_time");
      c.time(t, "last_ping_time");
      c.timeNow(t, "created");
      c.timeNow(t, "modified");
    });

    await knex.schema.createTable(TABLES.pushDispatcher, (t) => {
      c.id(t, "rhn_pushdispatch_id_pk");
      t.string("jabber_id", 128).notNullable().unique({ indexName: "rhn_pushdispatch_jid_uq" });
      t.string("password", 32);
      c.timeNow(t, "last_checkin");
      t.string("hostname", 256).notNullable();
      c.number(t, "port").notNullable();
      c.timeNow(t, "created");
      c.timeNow(t, "modified");
    });

    // Spacewalk keeps rhnPushClient.modified current with a trigger; so does the standalone schema.
    if (pg) {
      await knex.raw(`
        CREATE OR REPLACE FUNCTION rhn_pclient_mod_trig_fun() RETURNS trigger AS $$
        BEGIN
          NEW.modified := current_timestamp;
          RETURN NEW;
        END;
        $$ LANGUAGE plpgsql`);
      await knex.raw(`
        CREATE TRIGGER rhn_pclient_mod_trig BEFORE INSERT OR UPDATE ON ${TABLES.pushClient}
        FOR EACH ROW EXECUTE PROCEDURE rhn_pclient_mod_trig_fun()`);
    } else {
      // SQLite has no BEFORE-UPDATE assignment; recursive triggers are off, so this UPDATE does not re-fire.
      await knex.raw(`
        CREATE TRIGGER rhn_pclient_mod_trig AFTER UPDATE ON ${TABLES.pushClient}
        FOR EACH ROW WHEN NEW.modified = OLD.modified
        BEGIN
          UPDATE ${TABLES.pushClient} SET modified = ${SQLITE_NOW} WHERE id = NEW.id;
        END`);
    }

    // Reference data, with Spacewalk's ids and labels.
    await knex(TABLES.actionStatus).insert(
      ACTION_STATUSES.map((s) => ({ id: s.id, name: s.name })),
    );
    await knex(TABLES.actionType).insert(
      ACTION_TYPES.map((a) => ({ id: a.id, label: a.label, name: a.name })),
    );
    for (const state of PUSH_CLIENT_STATES) {
      await knex(TABLES.pushClientState).insert({
        id: pg ? knex.raw(`nextval('${SEQUENCES.pushClientState}')`) : state.id,
        label: state.label,
        name: state.label,
      });
    }
  },
  async down(knex, kind) {
    for (const table of [
      TABLES.pushDispatcher,
      TABLES.pushClient,
      TABLES.pushClientState,
      TABLES.serverAction,
      TABLES.action,
      TABLES.actionStatus,
      TABLES.actionType,
      TABLES.server,
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
    if (kind === "postgres") {
      await knex.raw("DROP FUNCTION IF EXISTS rhn_pclient_mod_trig_fun()");
      for (const name of Object.values(SEQUENCES))
        await knex.raw(`DROP SEQUENCE IF EXISTS ${name}`);
    }
  },
};

/**
 * Brings 0001's tables to Spacewalk 2.11's definitions: rhnServer's os, release and
 * server_arch_id are NOT NULL (no rhnServerArch table here, so no foreign key), rhnPushDispatcher
 * has no port, and rhnServerInfo exists (register_osad's check-in writes it). Rows 0001 allowed
 * without os or release get "unknown", and every existing system TRIAL_SERVER_ARCH_ID.
 */
const spacewalk211Columns: EmbeddedMigration = {
  name: "0002_spacewalk_2_11_columns",
  sqliteWithoutTransaction: true,
  async up(knex, kind) {
    const c = columns(knex, kind);
    await knex(TABLES.server).whereNull("os").update({ os: "unknown" });
    await knex(TABLES.server).whereNull("release").update({ release: "unknown" });
    await knex.schema.alterTable(TABLES.server, (t) => {
      c.number(t, "server_arch_id");
    });
    await knex(TABLES.server).update({ server_arch_id: TRIAL_SERVER_ARCH_ID });
    await knex.schema.alterTable(TABLES.server, (t) => {
      t.string("os", 64).notNullable().alter();
      t.string("release", 64).notNullable().alter();
      c.number(t, "server_arch_id").notNullable().alter();
    });
    await knex.schema.alterTable(TABLES.pushDispatcher, (t) => {
      t.dropColumn("port");
    });
    await knex.schema.createTable(TABLES.serverInfo, (t) => {
      c.number(t, "server_id")
        .notNullable()
        .references("id")
        .inTable(TABLES.server)
        .withKeyName("rhn_server_info_sid_fk");
      c.time(t, "checkin").defaultTo(
        knex.raw(kind === "postgres" ? "current_timestamp" : SQLITE_NOW),
      );
      c.number(t, "checkin_counter").defaultTo(0);
      t.unique(["server_id"], { indexName: "rhn_server_info_sid_unq" });
    });
    // The systems 0001 seeded get the row Spacewalk creates at registration.
    await knex.raw(
      `INSERT INTO ${TABLES.serverInfo} (server_id, checkin_counter) SELECT id, 0 FROM ${TABLES.server}`,
    );
  },
  async down(knex, kind) {
    await knex.schema.dropTableIfExists(TABLES.serverInfo);
    await knex.schema.alterTable(TABLES.pushDispatcher, (t) => {
      columns(knex, kind).number(t, "port").notNullable().defaultTo(0);
    });
    await knex.schema.alterTable(TABLES.server, (t) => {
      t.dropColumn("server_arch_id");
      t.string("os", 64).nullable().alter();
      t.string("release", 64).nullable().alter();
    });
  },
};

/** Every standalone-schema migration, oldest first. Append; never edit a released one. */
const MIGRATIONS: readonly EmbeddedMigration[] = [spacewalkSubset, spacewalk211Columns];

/** knex migration source serving the embedded migrations (no files are read at run time). */
export function embeddedMigrationSource(
  kind: DatabaseKind,
): Knex.MigrationSource<EmbeddedMigration> {
  return {
    getMigrations: async () => [...MIGRATIONS],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({
      up: (knex: Knex) => migration.up(knex, kind),
      down: (knex: Knex) => migration.down(knex, kind),
      ...(kind === "sqlite" && migration.sqliteWithoutTransaction === true
        ? { config: { transaction: false } }
        : {}),
    }),
  };
}
