// `osad2-server doctor` and `systems` as an administrator runs them, against a real server
// process, real clients and PostgreSQL: a healthy system, a client that is down, a revoked
// key, the stale-name case (a second register_osad while the running client keeps the old
// name) and an action held by the throttle. One deployment; each case leaves the others be.
import { registerOsad } from "@osad2/client";
import { KeyStore, keyUsagePath, readKeyUsage } from "@osad2/keys";
import { fetchLiveState, type DoctorReport, type SystemsReport } from "@osad2/server";
import { setServerActionStatus } from "@osad2/server/testing";
import { waitFor } from "@osad2/test-helpers";
import { Deployment, cliPath, run } from "@osad2/testkit";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let d: Deployment;
const stateDir = (): string => path.join(d.dir, "server", "state");

async function osad2Server(
  args: readonly string[],
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath("server"), ...args, "--config", d.serverConfigPath]);
}

async function doctor(system: string): Promise<{ code: number | string; report: DoctorReport }> {
  const result = await osad2Server(["doctor", system, "--json"]);
  try {
    return { code: result.code, report: JSON.parse(result.stdout) as DoctorReport };
  } catch {
    throw new Error(
      `doctor ${system} printed no JSON (${result.code}): ${result.stdout}${result.stderr}`,
    );
  }
}

beforeAll(async () => {
  // notify_threshold 1: one system with a picked-up action fills the throttle (the last case).
  // missed_pings 10: "heard from lately" is judged over 10 s, however loaded the machine.
  d = await Deployment.create({
    database: "postgres",
    serverConfig: { notify_threshold: 1, missed_pings: 10 },
  });
  await d.init();
  const labels = ["healthy", "down", "revoked", "stale"];
  for (const label of labels) await d.addSystem(label);
  await d.startServer();
  // One at a time: handshakes at the same moment cannot be told apart (reported as ambiguous).
  for (const label of labels) {
    d.startClient(label);
    await d.waitOnline(label);
  }
}, 90_000);

afterAll(async () => {
  await d?.dispose();
});

describe("osad2-server doctor", () => {
  it("says a healthy system is pushable, found by server id, profile, client or key name; logs who came online", async () => {
    const system = d.systems.get("healthy");
    if (system === undefined) throw new Error("no system");
    const clientName = (await d.pushClient("healthy"))?.name ?? "";
    await d.pingRounds("healthy", 2);
    const { code, report } = await doctor("healthy");
    expect(report.links.map((l) => [l.link, l.status])).toEqual([
      ["system", "ok"],
      ["push-client", "ok"],
      ["key", "ok"],
      ["server", "ok"],
      ["connection", "ok"],
      ["pong", "ok"],
      ["subscription", "ok"],
      ["presence", "ok"],
    ]);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      verdict: "pushable",
      system: { serverId: system.serverId, profileName: "healthy" },
      pushClient: { name: clientName, state: "online" },
      key: { name: "healthy", revoked: false },
      connection: { address: "127.0.0.1", clientName, key: { kind: "known", keyName: "healthy" } },
    });
    for (const reference of [String(system.serverId), clientName]) {
      expect((await doctor(reference)).report.system?.serverId).toBe(system.serverId);
    }
    const text = await osad2Server(["doctor", "healthy"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^healthy: PUSHABLE/);
    const online = d.server?.lines.find(
      (l) => l.includes("client online") && l.includes(clientName),
    );
    expect(JSON.parse(online ?? "{}")).toMatchObject({
      clientName,
      serverId: system.serverId,
      keyName: "healthy",
    });
  });

  it("says whether rhn_check picked up the last checkin", async () => {
    const system = d.systems.get("healthy");
    if (system === undefined) throw new Error("no system");
    const action = await d.schedule(["healthy"]);
    await waitFor("rhn_check ran on healthy", async () =>
      (await d.runs()).some((r) => r.label === "healthy"),
    );
    const before = (await doctor("healthy")).report;
    expect(before.lastNotification).toMatchObject({
      actionIds: [action],
      pickups: [{ actionId: action, status: 0, pickedUp: false }],
    });
    // Spacewalk's part: rhn_check's queue.get and submit moved the row on.
    await setServerActionStatus(await d.store(), {
      serverId: system.serverId,
      actionId: action,
      status: 2,
    });
    const after = (await doctor("healthy")).report;
    expect(after.lastNotification?.pickups).toEqual([
      expect.objectContaining({ actionId: action, status: 2, pickedUp: true }),
    ]);
    expect(after.actions).toEqual([]);
  });

  it("lists the managed systems with their keys", async () => {
    const result = await osad2Server(["systems", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as SystemsReport;
    expect(report.serverRunning).toBe(true);
    const byProfile = new Map(report.systems.map((s) => [s.profileName, s]));
    for (const label of ["healthy", "down", "revoked", "stale"]) {
      expect(byProfile.get(label)).toMatchObject({
        serverId: d.systems.get(label)?.serverId,
        keyName: label,
        state: "online",
        address: "127.0.0.1",
      });
      expect(byProfile.get(label)?.clientVersion).toMatch(/^\d+\.\d+\.\d+/);
    }
    const text = await osad2Server(["systems"]);
    expect(text.stdout.split("\n")[0]).toMatch(/^SERVER_ID\s+PROFILE\s+CLIENT\s+KEY\s+STATE/);
  });

  it("says a stopped client is not connected", async () => {
    await d.stopClient("down");
    const { code, report } = await doctor("down");
    expect(code).toBe(1);
    expect(report.broken).toBe("connection");
    expect(report.links.at(-1)).toMatchObject({ status: "broken", problem: "said-goodbye" });
    expect(report.links.at(-1)?.fix).toContain("osad2-client");
  });

  it("names the revoked key file and the refused handshakes", async () => {
    const keys = await KeyStore.open(d.certificates);
    try {
      await keys.revoke("revoked");
    } finally {
      await keys.close();
    }
    // The server cuts the connection; the client's next handshake is refused.
    await waitFor("the revoked key's handshake refused", async () =>
      (await fetchLiveState(stateDir()))?.failures.some(
        (f) => f.keyName === "revoked" && f.reason === "unknown-key",
      ),
    );
    const { code, report } = await doctor("revoked");
    expect(code).toBe(1);
    expect(report.broken).toBe("key");
    expect(report.key).toMatchObject({ name: "revoked", revoked: true });
    expect(report.key?.path).toContain(`${path.sep}revoked${path.sep}`);
    expect(report.failures.some((f) => f.reason === "unknown-key")).toBe(true);
  });

  it("says the connected client speaks under a name register_osad has replaced", async () => {
    const system = d.systems.get("stale");
    const client = d.clients.get("stale");
    if (system === undefined || client === undefined) throw new Error("no stale system");
    const oldName = (await d.pushClient("stale"))?.name;
    // Frozen, so it cannot learn of the new name (its next pong would be told unknown-client).
    client.child.kill("SIGSTOP");
    try {
      const reply = await registerOsad({
        serverUrl: d.registrationUrl,
        systemidPath: system.systemidPath,
      });
      const { code, report } = await doctor("stale");
      expect(code).toBe(1);
      expect(report.pushClient?.name).toBe(reply.clientName);
      expect(report.connection?.clientName).toBe(oldName);
      expect(report.links.at(-1)).toMatchObject({ link: "connection", problem: "stale-name" });
      expect(report.links.at(-1)?.summary).toContain(`speaks as push client ${oldName ?? ""}`);
      // The administrator may know only the old name (from the client's status): it finds the system too.
      expect((await doctor(oldName ?? "")).report.system?.serverId).toBe(system.serverId);
    } finally {
      client.child.kill("SIGCONT");
    }
  });

  it("says which action waits for the throttle", async () => {
    const store = await d.store();
    // The stopped system has an action picked up: it holds the only slot (notify_threshold 1).
    const busy = await d.schedule(["down"]);
    await setServerActionStatus(store, {
      serverId: d.systems.get("down")?.serverId ?? 0,
      actionId: busy,
      status: 1,
    });
    const held = await d.schedule(["healthy"]);
    const { code, report } = await doctor("healthy");
    expect(code).toBe(0);
    expect(report.actions).toEqual([
      expect.objectContaining({
        actionId: held,
        due: true,
        heldBy: expect.objectContaining({ kind: "throttle", running: 1, notifyThreshold: 1 }),
      }),
    ]);
    const text = await osad2Server(["doctor", "healthy"]);
    expect(text.stdout).toContain("held by the throttle");
  });

  it("with the server stopped: says so as the broken link; systems reads the files; key-usage.json was written", async () => {
    await d.stopServer();
    const usage = await readKeyUsage(keyUsagePath(stateDir()));
    expect(usage.get("healthy")).toMatchObject({
      serverId: d.systems.get("healthy")?.serverId,
      profileName: "healthy",
      address: "127.0.0.1",
    });
    const { code, report } = await doctor("healthy");
    expect(code).toBe(1);
    expect(report).toMatchObject({
      serverRunning: false,
      broken: "server",
      key: { name: "healthy" },
    });
    expect(report.links.at(-1)?.fix).toContain("systemctl start osad2-server");
    const result = await osad2Server(["systems", "--json"]);
    const systems = JSON.parse(result.stdout) as SystemsReport;
    expect(systems.serverRunning).toBe(false);
    expect(systems.systems.find((s) => s.profileName === "healthy")?.keyName).toBe("healthy");
    expect((await doctor("no-such-system")).code).toBe(2);
  });
});
