// This host's zone is far from UTC, and on PostgreSQL the server's sessions use yet another
// one: the schedule → checkin latency must not move by either offset. (Node re-reads TZ when
// it is assigned.)
process.env.TZ = "America/Los_Angeles";

import { describe, expect, it } from "vitest";
import { DATABASE_KINDS, freePort, waitFor } from "@osad2/test-helpers";
import { openStore } from "../src/db/index.js";
import { internalsOf, rawRows } from "../src/db/internal.js";
import { metricSum, useServerHarness } from "./core-fixtures.js";
import { scrape } from "./metrics-scrape.js";

/** Spacewalk's own writes in SQL: rhnAction.created from the database's clock. */
const INSERT_ACTION = {
  postgres: `INSERT INTO rhnaction (id, org_id, action_type, name, earliest_action, version, archived)
             VALUES (nextval('rhn_event_id_seq'), 1, 3, 'tz', now() - interval '2 minutes', 2, 0)
             RETURNING id`,
  sqlite: `INSERT INTO rhnaction (org_id, action_type, name, earliest_action, version, archived)
           VALUES (1, 3, 'tz', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 minutes'), 2, 0)
           RETURNING id`,
} as const;

describe.each(DATABASE_KINDS)("checkin latency across time zones (%s)", (kind) => {
  const h = useServerHarness(kind);

  it("counts from rhnAction.created as the database wrote it, whatever the zones", async () => {
    expect(new Date().getTimezoneOffset()).toBeGreaterThan(0); // really not UTC
    const metricsPort = await freePort();
    const database =
      kind === "postgres" ? `${h.db.url}&options=-c%20TimeZone%3DAsia%2FKathmandu` : h.db.url;
    const s = await h.server({ metricsPort, database, actionPollInterval: 0.2 });
    const a = await h.onlineClient(s);
    if (kind === "postgres") {
      // The server's store opens its sessions from that URL: they really run in that zone.
      const probe = await openStore(database, { schema: h.db.schema });
      const shown = rawRows<{ TimeZone: string }>(
        await internalsOf(probe).knex.raw("SHOW TimeZone"),
      );
      await probe.close();
      expect(shown[0]?.TimeZone).toBe("Asia/Kathmandu");
    }

    // The schedule page was opened two minutes before the action was saved.
    const [row] = await h.db.query(INSERT_ACTION[kind]);
    await h.db.query(
      kind === "postgres"
        ? "INSERT INTO rhnserveraction (server_id, action_id, status, remaining_tries) VALUES ($1, $2, 0, 10)"
        : "INSERT INTO rhnserveraction (server_id, action_id, status, remaining_tries) VALUES (?, ?, 0, 10)",
      [a.serverId, Number(row?.id)],
    );
    await waitFor("checkin", () => a.client.checkins >= 1);

    const [due] = await h.store.dueActions(new Date(), { includePickedUp: false });
    // Hours off would be a zone read wrong; the database and this host share a clock here.
    expect(Math.abs((due?.created.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    expect(Math.abs((due?.earliestAction.getTime() ?? 0) - (Date.now() - 120_000))).toBeLessThan(
      60_000,
    );
    const text = await scrape(metricsPort);
    expect(metricSum(text, "osad2_checkin_latency_seconds_count")).toBe(1);
    expect(metricSum(text, "osad2_checkin_latency_seconds_sum")).toBeLessThan(60);
  });
});
