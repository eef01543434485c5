// Failover between osad2-server processes on one PostgreSQL database (issue 14, item 2): two
// real servers on 127.0.0.1 with their own ports, real clients configured with both
// endpoints (half through server_host, half learning them from register_osad's
// listener-endpoints). The active one is killed with SIGKILL, stopped cleanly, and killed
// again and again; every action due then must reach its system within 10 s, none lost, at
// most two checkins per action, and the servers' own logs must show that no two of them
// ever sent checkins while both held the notifying role.
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePorts, waitFor } from "@osad2/test-helpers";
import { Deployment, type ManagedProcess, startCli } from "@osad2/testkit";
import {
  ACTIVE,
  deliverOne,
  expectAtMostTwo,
  expectNeverTwoNotifying,
  type ServerRun,
  STANDBY,
  time,
} from "./notifying.js";

/** One osad2-server process of the failover set, with its own ports and state dir. */
interface Member {
  readonly name: string;
  readonly configPath: string;
  readonly listenerPort: number;
  readonly metricsPort: number;
  process: ManagedProcess | undefined;
  /** Every process this member ran, and when each ended (SIGKILL: the test's kill time). */
  readonly history: ServerRun[];
}

const DELIVERY_BOUND_MS = 10_000;

let d: Deployment | undefined;
let members: Member[] = [];
afterEach(async () => {
  await Promise.all(members.map((m) => m.process?.kill("SIGKILL")));
  members = [];
  await d?.dispose();
  d = undefined;
});

/**
 * A PostgreSQL deployment whose server config lists both servers (failover_servers), plus a
 * second server config with its own ports and state dir on the same database and keys.
 */
async function failoverSet(
  labels: readonly string[],
): Promise<{ dep: Deployment; a: Member; b: Member }> {
  const dep = await Deployment.create({ database: "postgres", pingInterval: 1 });
  d = dep;
  const [pubB, listenB, xmlrpcB, metricsB] = (await freePorts(4)) as [
    number,
    number,
    number,
    number,
  ];
  const failoverServers = `127.0.0.1:${dep.ports.listener},127.0.0.1:${listenB}`;
  await dep.writeServerConfig({ failover_servers: failoverServers });
  const configB = await writeSecondServerConfig(dep, "osad_server_b.cfg", "state-b", [
    pubB,
    listenB,
    xmlrpcB,
    metricsB,
  ]);
  await dep.init();
  for (const [i, label] of labels.entries()) {
    // Half list both servers themselves; the other half learn them from the reply.
    await dep.addSystem(label, i % 2 === 0 ? { server_host: failoverServers } : {});
  }
  const member = (
    name: string,
    configPath: string,
    listenerPort: number,
    metricsPort: number,
  ): Member => ({
    name,
    configPath,
    listenerPort,
    metricsPort,
    process: undefined,
    history: [],
  });
  const a = member("A", dep.serverConfigPath, dep.ports.listener, dep.ports.metrics);
  const b = member("B", configB, listenB, metricsB);
  members = [a, b];
  return { dep, a, b };
}

/** Starts a member and waits for its role: active, or standing by. */
/** The deployment's server config with its own ports and state_dir, for a second server process. */
async function writeSecondServerConfig(
  dep: Deployment,
  file: string,
  stateDir: string,
  [pub, listen, xmlrpc, metrics]: readonly [number, number, number, number],
): Promise<string> {
  const text = await fs.readFile(dep.serverConfigPath, "utf8");
  const target = path.join(dep.dir, "server", file);
  await fs.writeFile(
    target,
    text
      .replace(/^publisher_port = .*$/m, `publisher_port = ${pub}`)
      .replace(/^listener_port = .*$/m, `listener_port = ${listen}`)
      // Any free port: the second server must not take the first one's.
      .replace(/^proxy_port = .*$/m, "proxy_port = 0")
      .replace(/^xmlrpc_port = .*$/m, `xmlrpc_port = ${xmlrpc}`)
      .replace(/^metrics_port = .*$/m, `metrics_port = ${metrics}`)
      .replace(/^state_dir = .*$/m, `state_dir = ${path.join(dep.dir, "server", stateDir)}`),
  );
  return target;
}

async function start(m: Member, expect: "active" | "standby"): Promise<ManagedProcess> {
  const p = startCli("server", ["run", "--config", m.configPath], { name: `server-${m.name}` });
  m.process = p;
  m.history.push({ process: p, endedAt: undefined });
  await p.waitForLine(expect === "active" ? ACTIVE : STANDBY, 60_000);
  return p;
}

/** Ends a member's process (SIGKILL, or SIGTERM for a clean stop) and records when. */
async function end(m: Member, signal: "SIGKILL" | "SIGTERM"): Promise<number> {
  const p = m.process;
  if (p === undefined) throw new Error(`${m.name} is not running`);
  const entry = m.history.find((h) => h.process === p);
  const at = Date.now();
  await p.kill(signal);
  if (entry) entry.endedAt = signal === "SIGKILL" ? at : Date.now();
  m.process = undefined;
  return at;
}

async function healthRole(m: Member): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${m.metricsPort}/healthz`);
  return ((await res.json()) as { role: string }).role;
}

async function activeGauge(m: Member): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${m.metricsPort}/metrics`)).text();
  return /^osad2_server_active (\d)/m.exec(text)?.[1];
}

const LABELS = ["f1", "f2", "f3", "f4"];

describe("failover between two osad2-server processes on PostgreSQL", () => {
  it("kill -9 of the active one: the standby takes over and every due action arrives within 10 s", async () => {
    const { dep, a, b } = await failoverSet(LABELS);
    await start(a, "active");
    await start(b, "standby");
    expect(await healthRole(a)).toBe("active");
    expect(await healthRole(b)).toBe("standby");
    expect(await activeGauge(a)).toBe("1");
    expect(await activeGauge(b)).toBe("0");
    dep.emulateSpacewalk(50);
    for (const l of LABELS) dep.startClient(l);
    for (const l of LABELS) await dep.waitOnline(l, 60_000);
    // The ones that did not list the servers learnt both from the reply.
    const learnt = dep.clients.get("f2")!;
    await waitFor("f2's state file naming both servers", async () => {
      const state = JSON.parse(
        await fs.readFile(path.join(dep.systems.get("f2")!.dir, "state.json"), "utf8"),
      ) as { registration: { servers: unknown[]; source: string } | null };
      return state.registration?.servers.length === 2 && state.registration.source === "reply";
    });
    expect(learnt.matching(/has no failover/)).toEqual([]);
    const warmUp = await deliverOne(dep, LABELS, Date.now());
    expectAtMostTwo(warmUp.checkins);

    const killedAt = await end(a, "SIGKILL");
    const { slowestMs, checkins } = await deliverOne(dep, LABELS, killedAt);
    const takeoverMs = time(await b.process!.waitForLine(ACTIVE)) - killedAt;
    process.stderr.write(
      `failover kill -9: takeover ${takeoverMs} ms, slowest delivery ${slowestMs} ms, checkins ${JSON.stringify([...checkins])}\n`,
    );
    expect(slowestMs).toBeLessThanOrEqual(DELIVERY_BOUND_MS);
    expectAtMostTwo(checkins);
    expect(await healthRole(b)).toBe("active");
    expect(await activeGauge(b)).toBe("1");
    expectNeverTwoNotifying([a, b]);
  });

  it("a clean stop of the active one hands over; kill -9 again and again, each restarted as the standby", async () => {
    const { dep, a, b } = await failoverSet(LABELS);
    // B starts first and so holds the role; A stands by.
    await start(b, "active");
    await start(a, "standby");
    dep.emulateSpacewalk(50);
    for (const l of LABELS) dep.startClient(l);
    for (const l of LABELS) await dep.waitOnline(l, 60_000);
    expectAtMostTwo((await deliverOne(dep, LABELS, Date.now())).checkins);

    // SIGTERM: B unbinds, then releases the lock; A takes over.
    const stoppedAt = await end(b, "SIGTERM");
    await a.process!.waitForLine(ACTIVE, 10_000);
    const clean = await deliverOne(dep, LABELS, stoppedAt);
    process.stderr.write(`failover clean stop: slowest delivery ${clean.slowestMs} ms\n`);
    expect(clean.slowestMs).toBeLessThanOrEqual(DELIVERY_BOUND_MS);
    expectAtMostTwo(clean.checkins);

    // Now kill whichever is active, three times, restarting the killed one as the standby.
    let active = a;
    let standby = b;
    await start(standby, "standby");
    for (let round = 1; round <= 3; round++) {
      const killedAt = await end(active, "SIGKILL");
      const next = standby.process!;
      const result = await deliverOne(dep, LABELS, killedAt);
      const takeoverMs = time(await next.waitForLine(ACTIVE)) - killedAt;
      process.stderr.write(
        `failover round ${round}: takeover ${takeoverMs} ms, slowest delivery ${result.slowestMs} ms, checkins ${JSON.stringify([...result.checkins])}\n`,
      );
      expect(result.slowestMs).toBeLessThanOrEqual(DELIVERY_BOUND_MS);
      expectAtMostTwo(result.checkins);
      [active, standby] = [standby, active];
      await start(standby, "standby");
    }
    expectNeverTwoNotifying([a, b]);
  });
});

describe("SQLite stays single-server", () => {
  it("refuses a second osad2-server on the same SQLite file, saying why", async () => {
    const dep = await Deployment.create({ database: "sqlite" });
    d = dep;
    await dep.init();
    await dep.startServer();
    const ports = (await freePorts(4)) as [number, number, number, number];
    const second = await writeSecondServerConfig(dep, "second.cfg", "state-2", ports);
    const p = startCli("server", ["run", "--config", second], { name: "server-2" });
    const code = await p.exited;
    expect(code).toBe(1);
    expect(p.lines.join("\n")).toMatch(
      /already serves the SQLite database .* SQLite supports exactly one osad2-server/,
    );
    // The first one is unaffected.
    expect((await fetch(`http://127.0.0.1:${dep.ports.metrics}/healthz`)).status).toBe(200);
  });
});
