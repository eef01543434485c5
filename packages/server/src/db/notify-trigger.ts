import type { Knex } from "knex";
import { TABLES } from "./tables.js";
import { NOTIFY_CHANNEL } from "./types.js";

/** Names of the PostgreSQL objects `osad2-server init` installs, so operators can find and drop them. */
export const NOTIFY_FUNCTION = "osad2_notify_server_action";
export const NOTIFY_TRIGGER = "osad2_server_action_notify";

/**
 * Installs (idempotently) the trigger `osad2-server init` adds unless --no-notify-trigger: every insert or update of an rhnServerAction row
 * NOTIFYs NOTIFY_CHANNEL with the server id. Updates matter too: a prerequisite reaching status 2
 * makes the actions that waited on it due. It is plain SQL rather than a tracked knex migration
 * so that installing it on a real Spacewalk database adds no osad2 bookkeeping tables.
 * `EXECUTE PROCEDURE` (not FUNCTION) keeps it working on the PostgreSQL 9.x/10 of older Spacewalks.
 */
export async function installNotifyTrigger(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw(`
      CREATE OR REPLACE FUNCTION ${NOTIFY_FUNCTION}() RETURNS trigger AS $$
      BEGIN
        PERFORM pg_notify('${NOTIFY_CHANNEL}', NEW.server_id::text);
        RETURN NULL;
      END;
      $$ LANGUAGE plpgsql`);
    await trx.raw(`DROP TRIGGER IF EXISTS ${NOTIFY_TRIGGER} ON ${TABLES.serverAction}`);
    await trx.raw(`
      CREATE TRIGGER ${NOTIFY_TRIGGER} AFTER INSERT OR UPDATE ON ${TABLES.serverAction}
      FOR EACH ROW EXECUTE PROCEDURE ${NOTIFY_FUNCTION}()`);
  });
}

/** Removes the trigger and its function (no error when absent). */
export async function dropNotifyTrigger(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw(`DROP TRIGGER IF EXISTS ${NOTIFY_TRIGGER} ON ${TABLES.serverAction}`);
    await trx.raw(`DROP FUNCTION IF EXISTS ${NOTIFY_FUNCTION}()`);
  });
}
