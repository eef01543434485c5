// Across hosts, direct: a lone server host and three client hosts on one LAN, each a network
// namespace of its own (e2e/test/hosts). Fault: the server killed -9 and restarted; every due
// action then reaches its system within 10 s, measured by the rhn_check runs the clients
// record. Direct clients' links cut for 30 s (at the host's end and at the switch's) share the
// suite's one 30 s window in across-hosts-proxy.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { countByLabel } from "@osad2/testkit";
import { Estate, netnsSupportFor, TestNetwork } from "./hosts/index.js";

const support = netnsSupportFor("across-hosts");
/** The bound: due work arrives within this long of the path being whole again. */
const DELIVERY_MS = 10_000;
const CLIENTS = ["c1", "c2", "c3"];

let network: TestNetwork;
let estate: Estate;

describe.skipIf(!support.ok)("across hosts: server and clients direct", () => {
  beforeAll(async () => {
    network = await TestNetwork.create();
    await network.addLan("core");
    for (const name of ["server", ...CLIENTS]) {
      await network.addHost(name);
      await network.connect(name, "core");
    }
    estate = await Estate.create(network, { lan: "core" });
    for (const label of CLIENTS) {
      await estate.addSystem(label, label, { server_url: estate.registrationUrl("server") });
    }
    await estate.startServer("server");
    for (const label of CLIENTS) estate.startClient(label);
    for (const label of CLIENTS) await estate.deployment.waitOnline(label, 60_000);
    estate.deployment.emulateSpacewalk();
  }, 120_000);

  afterAll(async () => {
    await estate?.dispose();
    await network?.dispose();
  });

  /** At most two runs per label since `from`: a third would have come before two more pings. */
  async function expectAtMostTwoRuns(labels: readonly string[], from: number): Promise<void> {
    await Promise.all(labels.map((label) => estate.deployment.pingRounds(label, 2)));
    const counts = countByLabel((await estate.runs()).filter((r) => r.at >= from));
    for (const label of labels)
      expect(counts.get(label), `runs on ${label}`).toBeLessThanOrEqual(2);
  }

  it("runs each process on its own host: clients reach the server at its LAN address, the server PostgreSQL through its unix socket", async () => {
    const address = network.host("server").addressOn("core");
    for (const label of CLIENTS) {
      expect(
        estate.clients
          .get(label)!
          .matching(/connecting to the server/)
          .join("\n"),
      ).toContain(`tcp://${address}:`);
    }
    const rows = await estate.deployment.pg!.query<{ addr: string | null }>(
      "SELECT client_addr::text AS addr FROM pg_stat_activity WHERE application_name = $1",
      [estate.deployment.pg!.applicationName],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.addr)).toEqual(rows.map(() => null)); // null: a unix-socket session
  });

  it("the server killed -9 and restarted: every due action reaches its system within 10 s of the restart", async () => {
    const gone = (label: string) =>
      estate.clients.get(label)!.matching(/disconnected from the server/).length;
    const seen = CLIENTS.map(gone);
    const before = Date.now();
    await estate.stopServer("server", "SIGKILL");
    await estate.deployment.schedule(CLIENTS);
    await waitFor("every client saw the server go", () =>
      CLIENTS.every((label, i) => gone(label) > seen[i]!),
    );
    expect((await estate.runs()).filter((r) => r.at >= before)).toEqual([]);
    await estate.startServer("server");
    const runningAt = Date.now();
    const first = await estate.firstRunsSince(CLIENTS, before, 60_000);
    const delays = Object.fromEntries([...first].map(([label, at]) => [label, at - runningAt]));
    console.log(
      `across-hosts direct server restart: runs ${JSON.stringify(delays)} ms after it ran`,
    );
    for (const [label, delay] of Object.entries(delays)) {
      expect(delay, `${label}: ms from restart to its run`).toBeLessThanOrEqual(DELIVERY_MS);
    }
    await expectAtMostTwoRuns(CLIENTS, before);
  }, 120_000);
});
