// Issue 10 Deliver 3 (row 8's consequence): the system's systemid is replayed elsewhere and
// register_osad hands its push client a new name and key. The real client, still speaking
// under the old name, must learn it and register again: pushable within 60 s.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerOsad } from "@osad2/client";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

let d: Deployment;

beforeAll(async () => {
  d = await Deployment.launch({ database: "sqlite", pingInterval: 1 }, ["moved"]);
});
afterAll(async () => {
  await d?.dispose();
});

describe("a client whose name was taken over", () => {
  it("is told unknown-client, registers again and gets its actions within 60 s", async () => {
    const original = (await d.pushClient("moved"))!.name;
    // The replay: another party registers with a copy of the systemid.
    const replayed = await registerOsad({
      serverUrl: d.registrationUrl,
      systemidPath: d.systems.get("moved")!.systemidPath,
    });
    expect(replayed.clientName).not.toBe(original);
    const takenAt = Date.now();
    await d.schedule(["moved"]);
    const recovered = await waitFor(
      "the real client registered again and online",
      async () => {
        const row = await d.pushClient("moved");
        return row !== undefined &&
          row.state === "online" &&
          row.name !== original &&
          row.name !== replayed.clientName
          ? row.name
          : undefined;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    await waitFor(
      "the action reaches the real client's rhn_check",
      async () => (await d.runs()).some((r) => r.label === "moved" && r.at >= takenAt),
      { timeoutMs: Math.max(1, 60_000 - (Date.now() - takenAt)), everyMs: 200 },
    );
    const elapsedMs = Date.now() - takenAt;
    expect(elapsedMs).toBeLessThan(60_000);
    expect(recovered).toMatch(/^[0-9a-f]{16}$/);
    const client = d.clients.get("moved")!;
    expect(client.matching(/registering again/).length).toBeGreaterThanOrEqual(1);
    console.log(`recovered as ${recovered} ${elapsedMs} ms after the takeover`);
  });
});
