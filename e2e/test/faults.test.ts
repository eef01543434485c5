// Faults, each asserting that nothing is lost: every queued action leads to at least one
// rhn_check run on its system, and to no more than two.
import { afterEach, describe, expect, it } from "vitest";
import { KeyStore } from "@osad2/keys";
import { waitFor } from "@osad2/test-helpers";
import { countByLabel, Deployment } from "@osad2/testkit";

let d: Deployment | undefined;
afterEach(async () => {
  await d?.dispose();
  d = undefined;
});

async function deployment(database: "sqlite" | "postgres", labels: string[]): Promise<Deployment> {
  d = await Deployment.launch({ database }, labels);
  d.emulateSpacewalk();
  return d;
}

async function expectEachRanOnceOrTwice(
  dep: Deployment,
  labels: string[],
  before = 0,
): Promise<void> {
  await waitFor(
    `a run on each of ${labels.join(", ")}`,
    async () => {
      const counts = countByLabel((await dep.runs()).slice(before));
      return labels.every((l) => (counts.get(l) ?? 0) >= 1);
    },
    { timeoutMs: 30_000 },
  );
  // A third announcement would have arrived before two more pings.
  await Promise.all(labels.map((label) => dep.pingRounds(label, 2)));
  const counts = countByLabel((await dep.runs()).slice(before));
  for (const label of labels) {
    expect(counts.get(label), `runs on ${label}`).toBeGreaterThanOrEqual(1);
    expect(counts.get(label), `runs on ${label}`).toBeLessThanOrEqual(2);
  }
}

describe("faults", () => {
  it("kill -9 of a client, action scheduled while it is down, restart: the action runs", async () => {
    const dep = await deployment("sqlite", ["one", "two"]);
    const client = dep.clients.get("one")!;
    await client.kill("SIGKILL");
    dep.clients.delete("one");
    await dep.schedule(["one", "two"]);
    // "two" is unaffected and runs at once.
    await waitFor("two's run", async () => (await dep.runs()).some((r) => r.label === "two"));
    expect((await dep.runs()).some((r) => r.label === "one")).toBe(false);
    dep.startClient("one");
    await expectEachRanOnceOrTwice(dep, ["one", "two"]);
  });

  it("kill -9 of the server between scheduling and delivery, restart: every queued action is notified", async () => {
    const labels = ["a1", "a2", "a3"];
    const dep = await deployment("postgres", labels);
    const disconnects = (label: string) =>
      dep.clients.get(label)!.matching(/disconnected from the server/).length;
    const before = labels.map(disconnects);
    await dep.stopServer("SIGKILL");
    await dep.schedule(labels);
    // Every client has noticed the server is gone; none ran meanwhile.
    await waitFor("every client disconnected", () =>
      labels.every((label, i) => disconnects(label) > before[i]!),
    );
    expect(await dep.runs()).toHaveLength(0);
    await dep.startServer();
    await expectEachRanOnceOrTwice(dep, labels);
  });

  it("pg_terminate_backend on the server's connections: it recovers and loses nothing", async () => {
    const dep = await deployment("postgres", ["p1", "p2"]);
    const killed = await dep.pg!.terminateConnections();
    expect(killed).toBeGreaterThan(0);
    await dep.schedule(["p1", "p2"]);
    await expectEachRanOnceOrTwice(dep, ["p1", "p2"]);
    // Kill them again while an action is waiting; still nothing lost.
    const before = (await dep.runs()).length;
    await dep.schedule(["p1"]);
    await dep.pg!.terminateConnections();
    await expectEachRanOnceOrTwice(dep, ["p1"], before);
    expect(dep.server?.child.exitCode).toBe(null);
  });

  it("a client whose key is revoked while connected is cut off, logs the failure and runs nothing", async () => {
    const dep = await deployment("sqlite", ["keep", "revoked"]);
    const keys = await KeyStore.open(dep.certificates);
    await keys.revoke("revoked");
    await keys.close();
    const client = dep.clients.get("revoked")!;
    await client.waitForLine(/authentication failure with tcp:\/\/127\.0\.0\.1/);
    const before = (await dep.runs()).length;
    await dep.schedule(["keep", "revoked"]);
    await waitFor("keep's run", async () =>
      (await dep.runs()).slice(before).some((r) => r.label === "keep"),
    );
    // Several poll rounds later (three pings to "keep"): "revoked" has still run nothing and
    // "keep" got no second checkin.
    await dep.pingRounds("keep", 3);
    const counts = countByLabel((await dep.runs()).slice(before));
    expect(counts.get("keep")).toBe(1);
    expect(counts.get("revoked") ?? 0).toBe(0);
  });
});
