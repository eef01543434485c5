// A compromised server floods the real client with checkins and malformed messages: the
// client's log must stay under 1 MB (the landed build wrote 760 MB in 25 s), while the
// suppressed counts it writes prove the flood arrived.
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { certificateLayout, readKeyPair } from "@osad2/keys";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

const FLOOD_MS = 5_000;
let d: Deployment;
let logfile: string;
let clientName: string;
const sockets: Array<{ close(): void }> = [];

beforeAll(async () => {
  d = await Deployment.create({ database: "sqlite" });
  await d.init();
  logfile = path.join(d.dir, "client.log");
  await d.addSystem("c", { logfile });
  await d.startServer();
  d.startClient("c");
  clientName = await d.waitOnline("c");
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await d?.dispose();
});

async function logLines(): Promise<Array<Record<string, unknown>>> {
  return (await fs.readFile(logfile, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("a server flooding the client", () => {
  it("writes under 1 MB of log for a flood of checkins and malformed messages", async () => {
    // The hostile server: the real server's key pair (a compromised server), its ports.
    await d.stopServer();
    const { secretKey } = await readKeyPair(certificateLayout(d.certificates).serverSecretPath);
    const curve = { curveServer: true, curveSecretKey: secretKey, linger: 0 };
    const pub = new zmq.Publisher({ ...curve, sendHighWaterMark: 1_000_000 });
    const router = new zmq.Router({ ...curve, receiveHighWaterMark: 1_000_000 });
    sockets.push(pub, router);
    await pub.bind(`tcp://127.0.0.1:${d.ports.publisher}`);
    await router.bind(`tcp://127.0.0.1:${d.ports.listener}`);
    // The client is subscribed again once it answers a ping over its DEALER. (A bare ROUTER
    // leaves its `hello-request 3` unanswered, so it falls back to wire v2: SUB + DEALER.)
    let heard = false;
    void (async () => {
      for await (const [, frame] of router) if (frame?.toString().startsWith("pong ")) heard = true;
    })().catch(() => undefined);
    await waitFor("the client reconnected to the hostile server", async () => {
      await pub.send(`ping ${"a".repeat(16)}`);
      return heard;
    });
    const before = (await fs.stat(logfile)).size;

    const checkin = Buffer.from(`system:${clientName} checkin`);
    const frames = [
      checkin,
      Buffer.from(`system:${clientName} reboot-now`),
      Buffer.from(`ping ${"\u00ff".repeat(300)}`),
      Buffer.from(`system:${clientName}`),
    ];
    let sent = 0;
    const start = Date.now();
    while (Date.now() - start < FLOOD_MS) {
      for (let i = 0; i < 1000; i += 1) {
        await pub.send(frames[sent % frames.length] ?? checkin);
        sent += 1;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The end of the window reports every message with lines held back.
    await waitFor(
      "the client's 'similar lines suppressed' summary",
      async () => (await logLines()).some((l) => /similar lines suppressed/.test(String(l.msg))),
      { timeoutMs: 30_000 },
    );
    const grown = (await fs.stat(logfile)).size - before;
    const suppressed = (await logLines()).reduce(
      (sum, l) => sum + (typeof l.suppressed === "number" ? l.suppressed : 0),
      0,
    );
    process.stderr.write(
      `log-flood: sent ${sent} messages in ${FLOOD_MS} ms; client log grew ${grown} bytes; ${suppressed} lines suppressed\n`,
    );
    expect(suppressed).toBeGreaterThan(10_000);
    expect(grown).toBeLessThan(1_000_000);
    expect(d.clients.get("c")?.child.exitCode).toBeNull();
  });
});
