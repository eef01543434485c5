// Processes as users run them: osad2-server and osad2-client from the built CLIs, real
// databases, real CURVE; rhn_check is a real script that records each run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { countByLabel, Deployment } from "@osad2/testkit";

describe.each(["sqlite", "postgres"] as const)("round trip on %s", (database) => {
  let d: Deployment;
  const labels = ["alpha", "beta", "gamma"];

  beforeAll(async () => {
    d = await Deployment.launch({ database }, labels);
  });
  afterAll(async () => {
    await d?.dispose();
  });

  it("registers every client with a fresh 16-hex name and shows it online", async () => {
    for (const label of labels) {
      const row = await d.pushClient(label);
      expect(row?.state).toBe("online");
      expect(row?.name).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it("an action for one system runs rhn_check there exactly once, well under a second", async () => {
    const before = (await d.runs()).length;
    const scheduled = Date.now();
    await d.schedule(["beta"]);
    const run = await waitFor("beta's run", async () =>
      (await d.runs()).slice(before).find((r) => r.label === "beta"),
    );
    // Any duplicate would have arrived before two more pings.
    await d.pingRounds("beta", 2);
    const runs = (await d.runs()).slice(before);
    expect(runs.map((r) => r.label)).toEqual(["beta"]);
    expect(run.at - scheduled).toBeLessThan(1000);
  });

  it("a mass action runs once on every system", async () => {
    const before = (await d.runs()).length;
    await d.schedule(labels);
    await waitFor("three runs", async () => (await d.runs()).length - before >= 3);
    await Promise.all(labels.map((label) => d.pingRounds(label, 2)));
    const counts = countByLabel((await d.runs()).slice(before));
    expect(Object.fromEntries(counts)).toEqual({ alpha: 1, beta: 1, gamma: 1 });
  });
});
