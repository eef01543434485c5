// Across hosts, failover: two osad2-server hosts (a failover set on one PostgreSQL, each
// server reaching it through its unix socket) and three client hosts on one LAN, each a
// network namespace of its own (e2e/test/hosts). Faults: the active server killed -9 (twice,
// each server once), and the active server's host cut off the LAN. After each, every due
// action reaches its system within 10 s, none is lost, at most two checkins per action, and
// the servers' own logs show that no two of them ever notified at once (notifying.ts, the
// same checks as failover.test.ts on 127.0.0.1).
//
// The cut is half-open only on the LAN: PostgreSQL is reached over its unix socket, which no
// link cut touches, so the cut server keeps its lock connection, stays active and keeps the
// role; the standby, finding the lock held, stands by; the clients reach neither (the only
// active one is unreachable, the standby binds nothing). Nothing is delivered until the link
// is back. This test pins that down (it is what the design does, not a fix): a real estate
// whose database path survives a LAN cut has the same gap, bounded by the cut.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs/promises";
import path from "node:path";
import { waitFor } from "@osad2/test-helpers";
import { Estate, netnsSupportFor, TestNetwork } from "./hosts/index.js";
import {
  ACTIVE,
  delivered,
  deliverOne,
  expectAtMostTwo,
  expectNeverTwoNotifying,
  scheduleOne,
  STANDBY,
  time,
} from "./notifying.js";

const support = netnsSupportFor("across-hosts-failover");
/** The bound: due work arrives within this long of the path being whole again. */
const DELIVERY_MS = 10_000;
/**
 * How long the active server's host is off the LAN: the fault itself. Past both bounds a
 * takeover would need (PostgreSQL releases a vanished holder's lock no sooner than 5 s, the
 * standby polls every 1 s), and shorter than the clients' heartbeat detection (10 s PING +
 * 10 s timeout), so their connections to it survive the cut.
 */
const HALF_OPEN_CUT_MS = 7_000;
const SERVERS = ["sa", "sb"] as const;
/** c1 and c2 list both servers in server_host; c3 learns them from register_osad's reply. */
const CLIENTS = ["c1", "c2", "c3"];
const LOST = /"msg":"lost the notifying role/;

let network: TestNetwork;
let estate: Estate;

describe.skipIf(!support.ok)(
  "across hosts: the active server of a failover set killed or cut off",
  () => {
    beforeAll(async () => {
      network = await TestNetwork.create();
      await network.addLan("core");
      for (const name of [...SERVERS, ...CLIENTS]) {
        await network.addHost(name);
        await network.connect(name, "core");
      }
      estate = await Estate.create(network, {
        lan: "core",
        pingInterval: 1,
        failoverHosts: SERVERS,
      });
      for (const label of CLIENTS) {
        await estate.addSystem(label, label, {
          server_url: estate.registrationUrl("sa"),
          ...(label === "c3" ? {} : { server_host: estate.failoverServers() }),
        });
      }
      await estate.startServer("sa", ACTIVE);
      await estate.startServer("sb", STANDBY);
      for (const label of CLIENTS) estate.startClient(label);
      for (const label of CLIENTS) await estate.deployment.waitOnline(label, 60_000);
      estate.deployment.emulateSpacewalk(50);
    }, 120_000);

    afterAll(async () => {
      await estate?.dispose();
      await network?.dispose();
    });

    const members = () => SERVERS.map((h) => estate.serverMember(h));

    it("one server active, the other standing by, on hosts of their own; every client knows both", async () => {
      const addresses = SERVERS.map((h) => network.host(h).addressOn("core"));
      await waitFor("c3's state file naming both servers, learnt from the reply", async () => {
        const state = JSON.parse(
          await fs.readFile(path.join(estate.system("c3").dir, "state.json"), "utf8"),
        ) as { registration: { servers: unknown[]; source: string } | null };
        return state.registration?.servers.length === 2 && state.registration.source === "reply";
      });
      for (const label of CLIENTS) {
        const connecting = estate.clients
          .get(label)!
          .matching(/connecting to the server/)
          .join("\n");
        for (const address of addresses) expect(connecting, label).toContain(`tcp://${address}:`);
      }
      expectAtMostTwo((await deliverOne(estate.deployment, CLIENTS, Date.now())).checkins);
      expectNeverTwoNotifying(members());
    });

    it("the active server's host cut off the LAN: it keeps the role (its database path is a unix socket), the standby stands by, and the due actions arrive within 10 s of the restore", async () => {
      const sa = estate.servers.get("sa")!;
      const sb = estate.servers.get("sb")!;
      await network.setLink("sa.core", "down", "host");
      const cutAt = Date.now();
      const scheduled = await scheduleOne(estate.deployment, CLIENTS);
      // The fault's duration: nothing can reach the clients meanwhile.
      await new Promise((resolve) => setTimeout(resolve, cutAt + HALF_OPEN_CUT_MS - Date.now()));
      const early = (await estate.runs()).filter((r) => r.at >= cutAt);
      expect(early, "runs while the active server was cut off").toEqual([]);
      expect(sa.matching(LOST), "sa gave up the role").toEqual([]);
      expect(sb.matching(ACTIVE), "sb took the role").toEqual([]);
      await network.setLink("sa.core", "up", "host");
      const restoredAt = Date.now();
      const result = await delivered(estate.deployment, scheduled, restoredAt);
      process.stderr.write(
        `across-hosts failover half-open cut ${HALF_OPEN_CUT_MS} ms: after the restore ${JSON.stringify([...result.delays])} ms, checkins ${JSON.stringify([...result.checkins])}\n`,
      );
      expect(result.slowestMs).toBeLessThanOrEqual(DELIVERY_MS);
      expectAtMostTwo(result.checkins);
      expect(sb.matching(ACTIVE)).toEqual([]);
      expectNeverTwoNotifying(members());
    }, 60_000);

    it("kill -9 of the active server, then of the other: each time the standby takes over and every due action arrives within 10 s", async () => {
      let active: string = SERVERS[0];
      let standby: string = SERVERS[1];
      for (let round = 1; round <= 2; round++) {
        const killedAt = await estate.stopServer(active, "SIGKILL");
        const next = estate.servers.get(standby)!;
        const result = await deliverOne(estate.deployment, CLIENTS, killedAt);
        const takeoverMs = time(await next.waitForLine(ACTIVE)) - killedAt;
        process.stderr.write(
          `across-hosts failover kill -9 of ${active} (round ${round}): ${standby} took over in ${takeoverMs} ms; runs ${JSON.stringify([...result.delays])} ms after the kill, checkins ${JSON.stringify([...result.checkins])}\n`,
        );
        expect(result.slowestMs).toBeLessThanOrEqual(DELIVERY_MS);
        expectAtMostTwo(result.checkins);
        // The killed one comes back as the standby of the next round.
        await estate.startServer(active, STANDBY);
        [active, standby] = [standby, active];
      }
      expectNeverTwoNotifying(members());
    }, 120_000);
  },
);
