import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type SpacewalkStore } from "../src/db/index.js";
import { internalsOf } from "../src/db/internal.js";
import { createTestDatabase, type TestDatabase } from "@osad2/test-helpers";

// rhnServerAction keeps every action ever scheduled and Spacewalk has no index on its status:
// the dispatcher's queries must read it by its (server_id, action_id) key, never scan it.
const SERVERS = 18_000;
const ACTIONS = 20_000;
const ROWS = 300_000;
const FIRST_ID = 1_000_010_000;

interface PlanNode {
  readonly "Node Type": string;
  readonly "Relation Name"?: string;
  readonly Plans?: readonly PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** "Seq Scan on <relation>" for every sequential scan in the plan. */
function seqScans(plan: PlanNode): string[] {
  return nodes(plan)
    .filter((n) => n["Node Type"] === "Seq Scan")
    .map((n) => `Seq Scan on ${n["Relation Name"] ?? "?"}`);
}

describe("the due queries on 300,000 rhnServerAction rows (postgres)", () => {
  let db: TestDatabase;
  let store: SpacewalkStore;
  /** The SQL and bindings of every query the store ran, as PostgreSQL received them. */
  const ran: { sql: string; bindings: readonly unknown[] }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase("postgres");
    store = await openStore(db.url, { schema: db.schema });
    await store.prepare();
    internalsOf(store).knex.on("query", (q: { sql: string; bindings?: unknown[] }) =>
      ran.push({ sql: q.sql, bindings: q.bindings ?? [] }),
    );
    await db.query(`INSERT INTO rhnserver (id, org_id, digital_server_id, os, release, name, secret, server_arch_id)
      SELECT ${FIRST_ID} + g, 1, 'ID-' || (${FIRST_ID} + g), 'os', '1', 's' || g, md5(g::text), 1
        FROM generate_series(0, ${SERVERS - 1}) g`);
    await db.query(`INSERT INTO rhnaction (id, org_id, action_type, name, earliest_action, version, archived)
      SELECT g, 1, 3, 'a' || g, now() - interval '1 day' + g * interval '1 second', 2, 0
        FROM generate_series(1, ${ACTIONS}) g`);
    // History: almost every row completed, one in a thousand queued, a few picked up.
    await db.query(`INSERT INTO rhnserveraction (server_id, action_id, status, remaining_tries)
      SELECT ${FIRST_ID} + (g % ${SERVERS}), 1 + (g / ${SERVERS}) + (g % 997),
             CASE WHEN g % 1000 = 0 THEN 0 WHEN g % 1777 = 0 THEN 1 ELSE 2 END, 10
        FROM generate_series(0, ${ROWS - 1}) g`);
    expect(await db.count("rhnserveraction")).toBe(ROWS);
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  /** `count` push clients (online), spread over the systems; returns their names. */
  async function pushClients(count: number): Promise<string[]> {
    await db.query("DELETE FROM rhnpushclient");
    const step = Math.floor(SERVERS / count);
    await db.query(`INSERT INTO rhnpushclient (id, name, server_id, shared_key, state_id)
      SELECT g, 'c' || lpad(to_hex(g), 15, '0'), ${FIRST_ID} + g * ${step}, 'k', 1
        FROM generate_series(0, ${count - 1}) g`);
    // As autovacuum would have: statistics and the visibility map.
    await db.query("VACUUM ANALYZE rhnserveraction");
    await db.query("VACUUM ANALYZE rhnpushclient");
    const rows = await db.query("SELECT name FROM rhnpushclient ORDER BY name");
    return rows.map((r) => String(r.name));
  }

  /** The plans of the queries `work` makes the store run (EXPLAIN with the same bindings). */
  async function plansOf(work: () => Promise<unknown>): Promise<PlanNode[]> {
    ran.length = 0;
    await work();
    const plans: PlanNode[] = [];
    for (const { sql, bindings } of [...ran]) {
      const [row] = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, [...bindings]);
      const plan = (row?.["QUERY PLAN"] as { Plan: PlanNode }[] | undefined)?.[0]?.Plan;
      if (plan === undefined) throw new Error(`no plan for ${sql}`);
      plans.push(plan);
    }
    return plans;
  }

  it.each([
    ["few systems have a push client", 50],
    ["most systems have a push client", 15_000],
  ])("%s: dueActions and nextEarliestAction never scan rhnServerAction", async (_, count) => {
    const names = await pushClients(count);
    const now = new Date();
    for (const clients of [names, undefined]) {
      const plans = await plansOf(async () => {
        const due = await store.dueActions(now, { includePickedUp: true, clients });
        // Every pending row of a push-client system, none of the others.
        const [expected] = await db.query(
          `SELECT count(*)::int AS n FROM rhnserveraction sa JOIN rhnpushclient pc ON pc.server_id = sa.server_id
            WHERE sa.status IN (0, 1)`,
        );
        expect(due).toHaveLength(Number(expected?.n));
        expect(due.length).toBeGreaterThan(0);
        await store.nextEarliestAction(now, { clients });
      });
      expect(plans).toHaveLength(2);
      for (const plan of plans) {
        expect(seqScans(plan)).not.toContain("Seq Scan on rhnserveraction");
      }
    }
  });

  it("asks the database nothing for an empty set of clients", async () => {
    await pushClients(50);
    ran.length = 0;
    expect(await store.dueActions(new Date(), { includePickedUp: true, clients: [] })).toEqual([]);
    expect(await store.nextEarliestAction(new Date(), { clients: [] })).toBeNull();
    expect(ran).toEqual([]);
  });
});

// SQLite's planner already started from rhnPushClient before the queries were rewritten; this
// keeps it that way for the new form (an IN list of the clients' server ids).
describe("the due queries on 300,000 rhnServerAction rows (sqlite)", () => {
  it("search rhnServerAction by its key, never scan it", async () => {
    const db = await createTestDatabase("sqlite");
    const store = await openStore(db.url);
    try {
      await store.prepare();
      const ran: { sql: string; bindings: readonly unknown[] }[] = [];
      internalsOf(store).knex.on("query", (q: { sql: string; bindings?: unknown[] }) =>
        ran.push({ sql: q.sql, bindings: q.bindings ?? [] }),
      );
      const series = (n: number) =>
        `WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x < ${n - 1})`;
      await db.query(`${series(SERVERS)} INSERT INTO rhnserver (id, org_id, digital_server_id, os, release, name, secret, server_arch_id)
        SELECT ${FIRST_ID} + x, 1, 'ID-' || (${FIRST_ID} + x), 'os', '1', 's' || x, 'secret', 1 FROM g`);
      await db.query(`${series(ACTIONS)} INSERT INTO rhnaction (id, org_id, action_type, name, earliest_action, version, archived)
        SELECT x + 1, 1, 3, 'a' || x, '2020-01-01T00:00:00.000Z', 2, 0 FROM g`);
      await db.query(`${series(ROWS)} INSERT INTO rhnserveraction (server_id, action_id, status, remaining_tries)
        SELECT ${FIRST_ID} + (x % ${SERVERS}), 1 + (x / ${SERVERS}) + (x % 997),
               CASE WHEN x % 1000 = 0 THEN 0 WHEN x % 1777 = 0 THEN 1 ELSE 2 END, 10 FROM g`);
      await db.query(`${series(15_000)} INSERT INTO rhnpushclient (id, name, server_id, shared_key, state_id)
        SELECT x + 1, 'c' || x, ${FIRST_ID} + x, 'k', 1 FROM g`);
      await db.query("ANALYZE");
      const names = Array.from({ length: 15_000 }, (_, i) => `c${i}`);
      for (const clients of [names.slice(0, 50), names, undefined]) {
        ran.length = 0;
        expect(
          (await store.dueActions(new Date(), { includePickedUp: true, clients })).length,
        ).toBeGreaterThan(0);
        await store.nextEarliestAction(new Date(), { clients });
        expect(ran).toHaveLength(2);
        for (const { sql, bindings } of ran) {
          const plan = (await db.query(`EXPLAIN QUERY PLAN ${sql}`, [...bindings])).map((r) =>
            String(r.detail),
          );
          expect(plan.filter((step) => /^SCAN (sa|sap|sr|rhnserveraction)\b/.test(step))).toEqual(
            [],
          );
          expect(plan.some((step) => /^SEARCH sa USING .*INDEX .*\(server_id=/.test(step))).toBe(
            true,
          );
        }
      }
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
