// kill -9 of the server in the middle of a throttled mass action to 200 systems, simulated
// in four processes (each system with its own key pair and CURVE session, running a real
// rhn_check stand-in), then a restart: every system runs at least once and at most twice.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateLayout, readPublicKey } from "@osad2/keys";
import { scheduleAction } from "@osad2/server/testing";
import { waitFor } from "@osad2/test-helpers";
import {
  ActionCompleter,
  createSimSystems,
  Deployment,
  SimFleet,
  writeRecorderScript,
  readRuns,
  countByLabel,
  type SimSystem,
} from "@osad2/testkit";

const SYSTEMS = 200;
let d: Deployment;
let fleet: SimFleet | undefined;
let completer: ActionCompleter | undefined;
let systems: SimSystem[];
const runLog = () => path.join(d.dir, "sim-runs.log");
/** Pings each simulated system received so far. */
const pings = new Map<string, number>();

beforeAll(async () => {
  // Throttled like osa-dispatcher's notify_threshold, so the kill lands mid-action.
  d = await Deployment.create({ database: "postgres", serverConfig: { checkin_count: 40 } });
  await d.init();
  await d.startServer();
  systems = await createSimSystems({
    store: await d.store(),
    certificates: d.certificates,
    count: SYSTEMS,
    method: "xmlrpc",
    registrationUrl: d.registrationUrl,
    systemidDir: path.join(d.dir, "sim-systemids"),
  });
  const recorder = await writeRecorderScript(d.dir, runLog(), "sleep 0.2");
  const byName = new Map(systems.map((s) => [s.name, s.serverId]));
  completer = await ActionCompleter.open({
    kind: "postgres",
    url: d.pg!.url,
    schema: d.pg!.schema,
  });
  fleet = await SimFleet.start(
    {
      publisherEndpoint: `tcp://127.0.0.1:${d.ports.publisher}`,
      listenerEndpoint: `tcp://127.0.0.1:${d.ports.listener}`,
      serverPublicKey: await readPublicKey(certificateLayout(d.certificates).serverPublicPath),
      clients: systems,
      clientsPerProcess: SYSTEMS / 4,
      command: [recorder],
      dir: path.join(d.dir, "sim"),
      reportPings: true,
    },
    (event) => {
      if (event.type === "ping") pings.set(event.name, (pings.get(event.name) ?? 0) + 1);
      // Spacewalk's part: a finished rhn_check completes the system's actions.
      if (event.type === "run") completer!.complete(byName.get(event.name)!);
    },
  );
  await waitFor(
    "all simulated systems online",
    async () => {
      const [row] = await d.sql<{ n: string }>(
        "SELECT count(*) AS n FROM rhnpushclient pc JOIN rhnpushclientstate s ON s.id = pc.state_id WHERE s.label = 'online'",
      );
      return Number(row?.n) === SYSTEMS;
    },
    { timeoutMs: 120_000, everyMs: 250 },
  );
}, 240_000);

afterAll(async () => {
  await fleet?.stop();
  await completer?.close();
  await d?.dispose();
});

describe("kill -9 of the server during a mass action to 200 systems", () => {
  it("loses nothing: every system runs rhn_check at least once and at most twice", async () => {
    await scheduleAction(await d.store(), { serverIds: systems.map((s) => s.serverId) });
    // Kill it once the throttled action is well under way but not done.
    await waitFor("20 runs", async () => (await readRuns(runLog())).length >= 20, {
      timeoutMs: 30_000,
    });
    await d.stopServer("SIGKILL");
    const atKill = (await readRuns(runLog())).length;
    expect(atKill).toBeLessThan(SYSTEMS);
    await d.startServer();
    await waitFor(
      "a run on every system",
      async () => countByLabel(await readRuns(runLog())).size === SYSTEMS,
      { timeoutMs: 90_000, everyMs: 250 },
    );
    // A third announcement to any system would have reached it before two more pings.
    const seen = new Map(pings);
    await waitFor(
      "two more pings to every system",
      () => systems.every((s) => (pings.get(s.name) ?? 0) >= (seen.get(s.name) ?? 0) + 2),
      { timeoutMs: 60_000, everyMs: 100 },
    );
    const counts = countByLabel(await readRuns(runLog()));
    const names = new Set(systems.map((s) => s.name));
    expect([...counts.keys()].every((name) => names.has(name))).toBe(true);
    expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
    // Spacewalk's view agrees: nothing left queued.
    await completer!.drain();
    const [left] = await d.sql<{ n: string }>(
      "SELECT count(*) AS n FROM rhnserveraction WHERE status IN (0, 1)",
    );
    expect(Number(left?.n)).toBe(0);
  }, 180_000);
});
