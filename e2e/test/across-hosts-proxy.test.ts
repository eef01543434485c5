// Across hosts, through proxies (issue 14 item 3): two osad2-server hosts (a failover set on
// one PostgreSQL), two osad2-proxy hosts, two client hosts behind each proxy; each a network
// namespace of its own (e2e/test/hosts). The servers and proxies share the LAN "core"; each
// proxy has its own edge LAN with its clients, and there is no route between LANs, so a
// client reaches a server only through its proxy's process (its register_osad goes through a
// relay on the proxy host, standing in for a Spacewalk proxy's web server).
//
// Both proxies sit right under the servers, not one behind the other: their faults are then
// independent, so one 30 s window holds two of them at once (p1's upstream link cut, p2 killed
// -9 and restarted), and both proxies' upstream lists both servers, as the active-server kill
// needs. A proxy behind a proxy is e2e/test/proxy.test.ts's (on 127.0.0.1).
//
// Two direct client hosts on core (server_host listing both servers) share the same window:
// their own links cut for 30 s, one at the host's end, one at the switch's — the suite's only
// 30 s cut, so across-hosts.test.ts (a lone server) does not need one of its own.
//
// After each fault every due action reaches its system within 10 s of the path being whole
// again, none is lost, at most two checkins each, and no two servers ever notified at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const support = netnsSupportFor("across-hosts-proxy");
/** How long p1's upstream link is down: the fault itself, not a wait for an outcome. */
const CUT_MS = 30_000;
/** The bound: due work arrives within this long of the path being whole again. */
const DELIVERY_MS = 10_000;
const SERVERS = ["sa", "sb"] as const;
/** Each proxy host, its edge LAN and the client hosts on it. */
const EDGES = [
  { proxy: "p1", lan: "edge1", clients: ["c1", "c2"] },
  { proxy: "p2", lan: "edge2", clients: ["c3", "c4"] },
] as const;
const P1_CLIENTS: string[] = [...EDGES[0].clients];
const P2_CLIENTS: string[] = [...EDGES[1].clients];
/** Direct clients on core; d1's link is cut at the host's end, d2's at the switch's. */
const DIRECT = ["d1", "d2"];
const CLIENTS = [...P1_CLIENTS, ...P2_CLIENTS, ...DIRECT];
/** Whose path the 30 s window cuts: behind p1, and the direct ones. */
const CUT_OFF = [...P1_CLIENTS, ...DIRECT];
const DISCONNECTED = /disconnected from the server/;

let network: TestNetwork;
let estate: Estate;

describe.skipIf(!support.ok)(
  "across hosts: clients behind two proxies under a failover set",
  () => {
    beforeAll(async () => {
      network = await TestNetwork.create();
      await network.addLan("core");
      for (const name of SERVERS) {
        await network.addHost(name);
        await network.connect(name, "core");
      }
      for (const name of DIRECT) {
        await network.addHost(name);
        await network.connect(name, "core");
      }
      for (const edge of EDGES) {
        await network.addLan(edge.lan);
        await network.addHost(edge.proxy);
        // eth0: the upstream link ("p1.core"), eth1 the clients' side.
        await network.connect(edge.proxy, "core");
        await network.connect(edge.proxy, edge.lan);
        for (const client of edge.clients) {
          await network.addHost(client);
          await network.connect(client, edge.lan);
        }
      }
      estate = await Estate.create(network, {
        lan: "core",
        pingInterval: 1,
        failoverHosts: SERVERS,
      });
      for (const label of DIRECT) {
        await estate.addSystem(label, label, {
          server_url: estate.registrationUrl("sa"),
          server_host: estate.failoverServers(),
        });
      }
      for (const edge of EDGES) {
        await estate.addProxy(edge.proxy, "core", SERVERS);
        for (const client of edge.clients) {
          await estate.addSystemBehindProxy(client, client, edge.proxy, edge.lan);
        }
      }
      await estate.startServer("sa", ACTIVE);
      await estate.startServer("sb", STANDBY);
      for (const edge of EDGES) {
        await estate.startRegistrationRelay(edge.proxy, "core", SERVERS);
        await estate.startProxy(edge.proxy);
      }
      for (const label of CLIENTS) estate.startClient(label);
      for (const label of CLIENTS) await estate.deployment.waitOnline(label, 60_000);
      estate.deployment.emulateSpacewalk(50);
    }, 120_000);

    afterAll(async () => {
      await estate?.dispose();
      await network?.dispose();
    });

    const members = () => SERVERS.map((h) => estate.serverMember(h));
    const disconnects = (label: string) => estate.clients.get(label)!.matching(DISCONNECTED).length;

    it("each client connects to its proxy's address on its edge LAN, the server lists it VIA that proxy, and an action reaches every one", async () => {
      for (const edge of EDGES) {
        const address = network.host(edge.proxy).addressOn(edge.lan);
        for (const label of edge.clients) {
          expect(
            estate.clients
              .get(label)!
              .matching(/connecting to the server/)
              .join("\n"),
            label,
          ).toContain(`tcp://${address}:`);
        }
      }
      // The server names each system's proxy and the address its proxy saw it at.
      const { code, stdout } = await estate.serverCommand("sa", "systems", ["--json"]);
      expect(code).toBe(0);
      const { systems } = JSON.parse(stdout) as {
        systems: { keyName: string | null; via: string | null; address: string | null }[];
      };
      for (const edge of EDGES) {
        for (const label of edge.clients) {
          const row = systems.find((r) => r.keyName === label);
          expect(row?.via, `${label} VIA`).toBe(edge.proxy);
          expect(row?.address, `${label} address`).toContain(
            network.host(label).addressOn(edge.lan),
          );
        }
      }
      for (const label of DIRECT) {
        const row = systems.find((r) => r.keyName === label);
        expect(row?.via, `${label} VIA`).toBe("direct");
        const connecting = estate.clients.get(label)!.matching(/connecting to the server/);
        for (const server of SERVERS) {
          expect(connecting.join("\n"), label).toContain(
            `tcp://${network.host(server).addressOn("core")}:`,
          );
        }
      }
      const warmUp = await deliverOne(estate.deployment, CLIENTS, Date.now());
      process.stderr.write(
        `across-hosts proxy warm-up: runs ${JSON.stringify([...warmUp.delays])} ms after scheduling\n`,
      );
      expectAtMostTwo(warmUp.checkins);
    });

    it("in one 30 s window, p1's upstream link and two direct clients' links cut, p2 killed -9 and restarted: each one's due actions arrive within 10 s of its path being whole", async () => {
      await network.setLink("p1.core", "down", "host");
      await network.setLink("d1.core", "down", "host");
      await network.setLink("d2.core", "down", "switch");
      const cutAt = Date.now();
      const seen = P2_CLIENTS.map(disconnects);
      await estate.stopProxy("p2", "SIGKILL");
      await waitFor("p2's clients saw it go", () =>
        P2_CLIENTS.every((label, i) => disconnects(label) > seen[i]!),
      );
      const cutOff = await scheduleOne(estate.deployment, CUT_OFF);
      const behindP2 = await scheduleOne(estate.deployment, P2_CLIENTS);
      const restartedAt = Date.now();
      await estate.startProxy("p2");
      const p2 = await delivered(estate.deployment, behindP2, restartedAt);
      process.stderr.write(
        `across-hosts proxy p2 kill -9 + restart: runs ${JSON.stringify([...p2.delays])} ms after the restart, checkins ${JSON.stringify([...p2.checkins])}\n`,
      );
      expect(p2.slowestMs).toBeLessThanOrEqual(DELIVERY_MS);
      expectAtMostTwo(p2.checkins);
      // Sleep out the rest of the cuts: the fault's duration. Nothing reaches the cut-off ones.
      await new Promise((resolve) => setTimeout(resolve, cutAt + CUT_MS - Date.now()));
      const early = (await estate.runs()).filter((r) => r.at >= cutAt && CUT_OFF.includes(r.label));
      expect(early, "runs on cut-off paths during the cut").toEqual([]);
      await network.setLink("p1.core", "up", "host");
      await network.setLink("d1.core", "up", "host");
      await network.setLink("d2.core", "up", "switch");
      const restoredAt = Date.now();
      const cut = await delivered(estate.deployment, cutOff, restoredAt);
      process.stderr.write(
        `across-hosts p1 upstream and d1/d2 links cut ${CUT_MS} ms: runs ${JSON.stringify([...cut.delays])} ms after the restore, checkins ${JSON.stringify([...cut.checkins])}\n`,
      );
      expect(cut.slowestMs).toBeLessThanOrEqual(DELIVERY_MS);
      expectAtMostTwo(cut.checkins);
    }, 120_000);

    it("the active server killed -9: the proxies link to the standby, which takes over, and every due action arrives within 10 s", async () => {
      const killedAt = await estate.stopServer("sa", "SIGKILL");
      const result = await deliverOne(estate.deployment, CLIENTS, killedAt);
      const takeoverMs = time(await estate.servers.get("sb")!.waitForLine(ACTIVE)) - killedAt;
      process.stderr.write(
        `across-hosts proxy server kill -9: sb took over in ${takeoverMs} ms; runs ${JSON.stringify([...result.delays])} ms after the kill, checkins ${JSON.stringify([...result.checkins])}\n`,
      );
      expect(result.slowestMs).toBeLessThanOrEqual(DELIVERY_MS);
      expectAtMostTwo(result.checkins);
      expectNeverTwoNotifying(members());
    }, 60_000);
  },
);
