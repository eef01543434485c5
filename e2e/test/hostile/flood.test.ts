// Issue 10 row 6 / Deliver 4: three authenticated connections flood the ROUTER with maximal
// malformed frames. The server's RSS must stay within 64 MiB of its baseline and come back
// near it; every dropped frame is counted and the log line about them is rate-limited.
// FLOOD_SECONDS (default 8) sets the flood's length; the figure is for 40.
import fs from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES } from "@osad2/protocol";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";
import { Peer, allowedCurve, metric } from "./identity-tools.js";

const FLOOD_MS = Number(process.env.FLOOD_SECONDS ?? 8) * 1000;
const MiB = 1024 * 1024;
let d: Deployment;
const peers: Peer[] = [];

beforeAll(async () => {
  d = await Deployment.launch({ database: "sqlite", pingInterval: 1 }, ["bystander"]);
});
afterAll(async () => {
  for (const p of peers) p.close();
  await d?.dispose();
});

async function serverRss(): Promise<number> {
  const status = await fs.readFile(`/proc/${d.server!.child.pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error("no VmRSS");
  return Number(kb[1]) * 1024;
}

describe("a flood of maximal frames", () => {
  it("keeps the server's RSS within 64 MiB of its baseline, counts the drops, logs a few lines", async () => {
    const baseline = await serverRss();
    const droppedBefore = await metric(d, "osad2_malformed_messages_total");
    // The largest frame the ROUTER lets through to the decoder (twice the protocol's limit).
    const frame = randomBytes(2 * MAX_MESSAGE_BYTES);
    frame[0] = 0xff; // never UTF-8
    for (let i = 0; i < 3; i++) peers.push(new Peer(await allowedCurve(d, `flooder${i}`), d.ports));
    let peak = baseline;
    let sent = 0;
    const until = Date.now() + FLOOD_MS;
    const sampler = setInterval(() => {
      void serverRss().then(
        (rss) => (peak = Math.max(peak, rss)),
        () => undefined,
      );
    }, 200);
    try {
      await Promise.all(
        peers.map(async (p) => {
          while (Date.now() < until) {
            await p.send(frame);
            sent += 1;
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, await serverRss());
    // What the flooders' sockets still hold drains to the server; the count settles.
    let counted = -1;
    await waitFor(
      "the drop count to settle",
      async () => {
        const now = (await metric(d, "osad2_malformed_messages_total")) - droppedBefore;
        peak = Math.max(peak, await serverRss());
        const settled = now === counted;
        counted = now;
        return settled;
      },
      { timeoutMs: 60_000, everyMs: 1_000 },
    );
    for (const p of peers.splice(0)) p.close();
    console.log(
      `flood ${FLOOD_MS / 1000} s: ${sent} frames sent, ${counted} counted; RSS ${Math.round(baseline / MiB)} MiB, peak ${Math.round(peak / MiB)} MiB`,
    );
    // Near the baseline again once the queues are drained (V8 and glibc give memory back lazily).
    let after = await serverRss();
    await waitFor(
      "RSS back near its baseline",
      async () => (after = await serverRss()) <= baseline + 32 * MiB,
      { timeoutMs: 30_000, everyMs: 500 },
    );
    const grew = peak - baseline;
    console.log(
      `flood ${FLOOD_MS / 1000} s: ${sent} frames (${counted} counted) of ${frame.length} B; server RSS ${Math.round(baseline / MiB)} MiB -> peak ${Math.round(peak / MiB)} MiB -> ${Math.round(after / MiB)} MiB`,
    );
    expect(sent).toBeGreaterThan(1_000);
    // Every frame that left a flooder's socket is counted (a DEALER queues, never drops).
    expect(counted).toBe(sent);
    expect(grew).toBeLessThanOrEqual(64 * MiB);
    const logged = d.server!.matching(/malformed client message dropped/).length;
    // At most 10 a minute (one window, maybe two).
    expect(logged).toBeGreaterThan(0);
    expect(logged).toBeLessThanOrEqual(20);
    // The bystander never noticed.
    await d.pingRounds("bystander", 2);
    expect((await d.pushClient("bystander"))?.state).toBe("online");
  });
});
