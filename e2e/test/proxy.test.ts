// osad2-proxy as an administrator runs it: a real osad2-server, two real osad2-proxy processes
// (one behind the other) and real osad2-client processes behind them and direct, on one host.
// Clients behind a proxy use the same client and config, only server_host and the server key
// are the proxy's. (Across hosts and with faults: across-hosts tests.)
import { KeyStore } from "@osad2/keys";
import { waitFor } from "@osad2/test-helpers";
import { cliPath, countByLabel, Deployment, run, type ProxyHost } from "@osad2/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("osad2-proxy between clients and the server", () => {
  let d: Deployment;
  let dmz: ProxyHost;
  let branch: ProxyHost;
  const proxied = ["p1", "p2"];
  const labels = ["direct", ...proxied, "deep"];

  beforeAll(async () => {
    d = await Deployment.create({ database: "sqlite" });
    try {
      await d.init();
      dmz = await d.addProxy("dmz");
      branch = await d.addProxy("branch7", { parent: dmz });
      await d.addSystem("direct");
      for (const label of proxied) await d.addSystem(label, {}, dmz);
      await d.addSystem("deep", {}, branch);
      await d.startServer();
      await dmz.start();
      await branch.start();
      for (const label of labels) d.startClient(label);
      await Promise.all(labels.map((label) => d.waitOnline(label, 20_000)));
    } catch (error) {
      await d.dispose();
      throw error;
    }
  });
  afterAll(async () => {
    await d?.dispose();
  });

  it("an action reaches the clients behind a proxy, behind two proxies and direct, once each", async () => {
    const before = (await d.runs()).length;
    const scheduled = Date.now();
    await d.schedule(labels);
    await waitFor("a run on every system", async () => {
      const counts = countByLabel((await d.runs()).slice(before));
      return labels.every((label) => counts.has(label));
    });
    const elapsed = Date.now() - scheduled;
    // Any duplicate would have arrived before two more pings.
    await Promise.all(labels.map((label) => d.pingRounds(label, 2)));
    const counts = countByLabel((await d.runs()).slice(before));
    expect(Object.fromEntries(counts)).toEqual({ direct: 1, p1: 1, p2: 1, deep: 1 });
    expect(elapsed).toBeLessThan(3_000);
  });

  it("`systems` shows which proxy path each system is behind", async () => {
    const result = await run(process.execPath, [
      cliPath("server"),
      "systems",
      "--json",
      "--config",
      d.serverConfigPath,
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      systems: { profileName: string; via: string | null; address: string | null }[];
    };
    const via = new Map(report.systems.map((s) => [s.profileName, s.via]));
    expect(Object.fromEntries(labels.map((label) => [label, via.get(label)]))).toEqual({
      direct: "direct",
      p1: "dmz",
      p2: "dmz",
      deep: "dmz/branch7",
    });
    const text = await run(process.execPath, [
      cliPath("server"),
      "systems",
      "--config",
      d.serverConfigPath,
    ]);
    expect(text.stdout.split("\n")[0]).toMatch(/\bVIA\b/);
  });

  it("a client revoked at the server is cut at its proxy within 5 s; the others carry on", async () => {
    const revoked = d.clients.get("p2");
    if (revoked === undefined) throw new Error("p2 is not running");
    const cuts = (): number => revoked.matching(/disconnected from the server/).length;
    const cutsBefore = cuts();
    const keys = await KeyStore.open(d.certificates);
    const revokedAt = Date.now();
    try {
      await keys.revoke("p2");
    } finally {
      await keys.close();
    }
    await waitFor("p2 cut off at the proxy", () => cuts() > cutsBefore, { timeoutMs: 10_000 });
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    // It cannot come back: its key is refused at the proxy's handshake.
    await revoked.waitForLine(/authentication failure/, 10_000);
    const before = (await d.runs()).length;
    await d.schedule(["p1", "p2", "deep"]);
    await waitFor("p1 and deep run again", async () => {
      const counts = countByLabel((await d.runs()).slice(before));
      return counts.has("p1") && counts.has("deep");
    });
    await d.pingRounds("p1", 2);
    const counts = countByLabel((await d.runs()).slice(before));
    expect(counts.get("p2") ?? 0).toBe(0);
    expect(counts.get("p1")).toBe(1);
  });

  it("the proxy killed -9 and restarted: the due action reaches its clients within 10 s of it being back", async () => {
    const before = (await d.runs()).length;
    await dmz.stop("SIGKILL");
    await d.schedule(["p1", "deep"]);
    await dmz.start();
    const back = Date.now();
    await waitFor(
      "p1 and deep run after the restart",
      async () => {
        const counts = countByLabel((await d.runs()).slice(before));
        return counts.has("p1") && counts.has("deep");
      },
      { timeoutMs: 15_000 },
    );
    expect(Date.now() - back).toBeLessThan(10_000);
  });

  it("the server killed -9 and restarted: the proxies relink and the due action reaches their clients within 10 s", async () => {
    const before = (await d.runs()).length;
    const linkedBefore = dmz.process?.matching(/"msg":"linked"/).length ?? 0;
    await d.stopServer("SIGKILL");
    await d.schedule(["p2", "p1", "deep"]);
    await d.startServer();
    const back = Date.now();
    await dmz.waitLinked(linkedBefore, 10_000);
    await waitFor(
      "p1 and deep run after the server restart",
      async () => {
        const counts = countByLabel((await d.runs()).slice(before));
        return counts.has("p1") && counts.has("deep");
      },
      { timeoutMs: 15_000 },
    );
    expect(Date.now() - back).toBeLessThan(10_000);
  });

  it("the proxies log their link, their parents and the connections they carry", () => {
    expect(dmz.process?.matching(/"msg":"child proxy linked"/).length).toBeGreaterThan(0);
    expect(branch.process?.matching(/"msg":"linked"/).length).toBeGreaterThan(0);
  });
});
