// A hostile registration endpoint answers register_osad with a 400 MB reply, streamed: the real
// client refuses it after 1 MiB, says so in its log, retries later, and its RSS stays low (the
// landed build read it all and reached 920 MiB).
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

const REPLY_BYTES = 400 * 1024 * 1024;
let d: Deployment;
let hostile: http.Server;
let requests = 0;

beforeAll(async () => {
  hostile = http.createServer((_, res) => {
    requests += 1;
    res.writeHead(200, { "Content-Type": "text/xml" });
    res.write('<?xml version="1.0"?><methodResponse><params><param><value><string>');
    const chunk = "x".repeat(64 * 1024);
    let sent = 0;
    const more = (): void => {
      while (sent < REPLY_BYTES) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", more);
      }
      res.end("</string></value></param></params></methodResponse>");
    };
    res.on("error", () => undefined);
    more();
  });
  await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
  const { port } = hostile.address() as AddressInfo;
  d = await Deployment.create({ database: "sqlite" });
  await d.init();
  await d.addSystem("c", { server_url: `http://127.0.0.1:${port}/XMLRPC` });
});
afterAll(async () => {
  await d?.dispose();
  hostile?.closeAllConnections();
  await new Promise((resolve) => hostile?.close(resolve));
});

/** Peak resident memory of a process (VmHWM), in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}

describe("a 400 MB register_osad reply", () => {
  it("is refused after 1 MiB with a clear log line, retried later, with RSS staying low", async () => {
    const client = d.startClient("c");
    const refusal = /more than the 1048576 bytes accepted; refused/;
    await waitFor(
      "two refused registrations (the second a retry)",
      () => client.matching(refusal).length >= 2,
    );
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(client.matching(refusal)[0]).toMatch(/"msg":"registration failed; will retry"/);
    const peak = await peakRssMiB(client.pid);
    process.stderr.write(`xmlrpc-client-reply: client peak RSS ${peak.toFixed(0)} MiB\n`);
    expect(peak).toBeLessThan(200);
    expect(client.child.exitCode).toBeNull();
  });
});
