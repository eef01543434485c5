// Presence in a mixed fleet and its write load (issue 11, items 4 and 5), on PostgreSQL:
// osad2 runs beside classic osa-dispatcher on one Spacewalk database and writes only the
// rows of the clients it manages; idle clients cost at most one UPDATE per ping round.
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { certificateLayout, readPublicKey } from "@osad2/keys";
import { createSystem } from "@osad2/server/testing";
import { waitFor } from "@osad2/test-helpers";
import { createSimSystems, Deployment, SimPool } from "@osad2/testkit";

/** Seconds between pings here; the default is 10 s. */
const PING_INTERVAL = 0.25;
/** Ping rounds in 10 minutes at the default ping_interval of 10 s. */
const ROUNDS_IN_10_MINUTES = 60;

let d: Deployment | undefined;
let pool: SimPool | undefined;
afterEach(async () => {
  pool?.close();
  pool = undefined;
  await d?.dispose();
  d = undefined;
});

interface Row extends Record<string, unknown> {
  name: string;
  state: string;
  last_ping_time: Date | null;
  next_action_time: Date | null;
}

async function row(dep: Deployment, name: string): Promise<Row | undefined> {
  const rows = await dep.pg!.query<Row>(
    `SELECT pc.*, s.label AS state FROM rhnpushclient pc
       JOIN rhnpushclientstate s ON s.id = pc.state_id WHERE pc.name = $1`,
    [name],
  );
  return rows[0];
}

/** Every column of osa-dispatcher's rows, `modified` included (a trigger sets it on any UPDATE). */
function classicRows(dep: Deployment): Promise<Record<string, unknown>[]> {
  return dep.pg!.query("SELECT * FROM rhnpushclient WHERE name LIKE 'classic-%' ORDER BY name");
}

/**
 * Systems registered and kept by classic osad and osa-dispatcher: Spacewalk's register_osad
 * and register_osad_jid, then osa-dispatcher's own statement for a signed message received
 * (dispatcher_client.py, update_client_message_received). One of them has a web-UI ping
 * waiting for osa-dispatcher, one a deadline that passed.
 */
async function classicFleet(dep: Deployment): Promise<void> {
  const store = await dep.store();
  for (const name of ["classic-online", "classic-pinged", "classic-expired"]) {
    const { system } = await createSystem(store, { name: `host-${name}` });
    await store.registerPushClient(system.id, { name, sharedKey: "c".repeat(40) });
    const jid = `osad-${name}@spacewalk.example.com/osad`;
    await store.registerPushClientJid(system.id, jid);
    await dep.pg!.query(
      `UPDATE rhnPushClient
          SET state_id = (SELECT id FROM rhnPushClientState WHERE label = 'online'),
              last_message_time = current_timestamp,
              last_ping_time = NULL,
              next_action_time = NULL
        WHERE jabber_id = $1`,
      [jid],
    );
  }
  // Spacewalk's system.sendOsaPing; and a deadline osa-dispatcher set that has passed.
  await dep.pg!.query(
    "UPDATE rhnPushClient SET last_ping_time = current_timestamp, next_action_time = NULL WHERE name = 'classic-pinged'",
  );
  await dep.pg!.query(
    `UPDATE rhnPushClient SET last_ping_time = current_timestamp - interval '1 minute',
            next_action_time = current_timestamp - interval '40 seconds' WHERE name = 'classic-expired'`,
  );
}

describe("mixed fleet on PostgreSQL", () => {
  it("osa-dispatcher's rows stay as they are through the equivalent of 10 minutes and a restart, while osad2's own clients come and go", async () => {
    const dep = (d = await Deployment.create({
      database: "postgres",
      pingInterval: PING_INTERVAL,
      serverConfig: { missed_pings: 2, last_message_refresh: 1.5 },
    }));
    await dep.init();
    await classicFleet(dep);
    const classic = await classicRows(dep);
    expect(classic.map((r) => r.name)).toHaveLength(3);
    for (const label of ["own1", "own2", "own3"]) await dep.addSystem(label);
    await dep.startServer();
    dep.startClient("own1");
    dep.startClient("own2");
    const own1 = await dep.waitOnline("own1");
    const own2 = await dep.waitOnline("own2");

    // Stopped cleanly: offline within 1 s, both ping times cleared (a web-UI ping was under way).
    await dep.pg!.query(
      `UPDATE rhnPushClient SET last_ping_time = current_timestamp,
              next_action_time = current_timestamp + interval '1 hour' WHERE name = $1`,
      [own1],
    );
    await dep.pingRounds("own1", 2);
    expect((await row(dep, own1))?.last_ping_time).not.toBeNull();
    const stopped = Date.now();
    const stopping = dep.stopClient("own1", "SIGTERM");
    await waitFor("own1 offline", async () => (await row(dep, own1))?.state === "offline", {
      timeoutMs: 5_000,
      everyMs: 20,
    });
    expect(Date.now() - stopped).toBeLessThan(1_000);
    await stopping;
    expect(await row(dep, own1)).toMatchObject({ last_ping_time: null, next_action_time: null });

    // kill -9: reaped after missed_pings.
    await dep.stopClient("own2", "SIGKILL");
    await waitFor("own2 reaped", async () => (await row(dep, own2))?.state === "offline");

    // Back again (registered anew: register_osad gives it a new name), and a newcomer.
    dep.startClient("own1");
    dep.startClient("own3");
    const own1Again = await dep.waitOnline("own1");
    const own3 = await dep.waitOnline("own3");
    await dep.pingRounds("own1", ROUNDS_IN_10_MINUTES / 2, 60_000);
    expect(await classicRows(dep)).toEqual(classic);

    // Restart: rows are left as they are; own3 dies while the server is down.
    await dep.stopServer("SIGTERM");
    expect((await row(dep, own3))?.state).toBe("online");
    await dep.stopClient("own3", "SIGKILL");
    await dep.startServer();
    // Still managed after the restart: reaped, though nothing of it was heard since.
    await waitFor("own3 reaped after the restart", async () => {
      return (await row(dep, own3))?.state === "offline";
    });
    await dep.pingRounds("own1", ROUNDS_IN_10_MINUTES / 2, 60_000);
    expect((await row(dep, own1Again))?.state).toBe("online");
    expect(await classicRows(dep)).toEqual(classic);
    // What it manages: its own clients' current names, none of osa-dispatcher's.
    const managed = JSON.parse(
      await fs.readFile(path.join(dep.dir, "server", "state", "managed-clients.json"), "utf8"),
    ) as { clients: string[] };
    const current = [own1Again, own2, own3];
    if (own1Again !== own1) expect(managed.clients).not.toContain(own1);
    expect([...managed.clients].sort()).toEqual([...current].sort());
  });

  it("N idle clients over M ping rounds: at most one UPDATE of rhnPushClient per round, each client's last_message_time at most once per last_message_refresh", async () => {
    const CLIENTS = 40;
    const ROUNDS = 40;
    const REFRESH_S = 2;
    const dep = (d = await Deployment.create({
      database: "postgres",
      pingInterval: PING_INTERVAL,
      serverConfig: { missed_pings: 3, last_message_refresh: REFRESH_S },
    }));
    await dep.init();
    await dep.startServer();
    // Registered without osad2's register_osad: managed once their signed hello verifies.
    const systems = await createSimSystems({
      store: await dep.store(),
      certificates: dep.certificates,
      count: CLIENTS,
      method: "store",
      systemidDir: path.join(dep.dir, "sim-systemids"),
    });
    const pings = new Map<string, number>();
    pool = new SimPool(
      {
        publisherEndpoint: `tcp://127.0.0.1:${dep.ports.publisher}`,
        listenerEndpoint: `tcp://127.0.0.1:${dep.ports.listener}`,
        serverPublicKey: await readPublicKey(certificateLayout(dep.certificates).serverPublicPath),
        clients: systems,
        reportPings: true,
      },
      (event) => {
        if (event.type === "ping") pings.set(event.name, (pings.get(event.name) ?? 0) + 1);
      },
    );
    await pool.start();
    const online = async () => {
      const [count] = await dep.pg!.query<{ n: string }>(
        `SELECT count(*) AS n FROM rhnpushclient pc JOIN rhnpushclientstate s ON s.id = pc.state_id
          WHERE s.label = 'online'`,
      );
      return Number(count?.n);
    };
    await waitFor("all simulated clients online", async () => (await online()) === CLIENTS, {
      timeoutMs: 60_000,
    });

    // Count what reaches the table from now on: UPDATE statements and the rows they change.
    const schema = dep.pg!.schema;
    await dep.pg!.query(`
      CREATE TABLE ${schema}.test_writes (statements bigint NOT NULL, rows bigint NOT NULL);
      INSERT INTO ${schema}.test_writes VALUES (0, 0);
      CREATE FUNCTION ${schema}.test_count_statement() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN UPDATE ${schema}.test_writes SET statements = statements + 1; RETURN NULL; END $$;
      CREATE FUNCTION ${schema}.test_count_row() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN UPDATE ${schema}.test_writes SET rows = rows + 1; RETURN NULL; END $$;
      CREATE TRIGGER test_statements AFTER UPDATE ON ${schema}.rhnpushclient
        FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.test_count_statement();
      CREATE TRIGGER test_rows AFTER UPDATE ON ${schema}.rhnpushclient
        FOR EACH ROW EXECUTE FUNCTION ${schema}.test_count_row();
    `);
    const start = new Date();
    const first = systems[0]!.name;
    const target = (pings.get(first) ?? 0) + ROUNDS;
    await waitFor(`${ROUNDS} ping rounds`, () => (pings.get(first) ?? 0) >= target, {
      timeoutMs: 60_000,
    });
    const [writes] = await dep.pg!.query<{ statements: string; rows: string }>(
      `SELECT statements, rows FROM ${schema}.test_writes`,
    );
    const elapsedS = (Date.now() - start.getTime()) / 1000;
    const statements = Number(writes?.statements);
    const rows = Number(writes?.rows);
    // Before: one markOnline (two UPDATEs) per client per round, 2 × 40 × 40 = 3,200 here.
    expect(statements).toBeLessThanOrEqual(ROUNDS + 1);
    expect(rows).toBeLessThanOrEqual(CLIENTS * (Math.ceil(elapsedS / REFRESH_S) + 1));
    // And last_message_time is kept fresh: every client's was rewritten in the window.
    const [fresh] = await dep.pg!.query<{ n: string }>(
      "SELECT count(*) AS n FROM rhnpushclient WHERE last_message_time >= $1",
      [start],
    );
    expect(Number(fresh?.n)).toBe(CLIENTS);
    expect(await online()).toBe(CLIENTS);
    console.log(
      `${CLIENTS} idle clients, ${ROUNDS} rounds in ${elapsedS.toFixed(1)} s: ${statements} UPDATE statements, ${rows} rows`,
    );
  });
});
