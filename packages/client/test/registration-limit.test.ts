import http from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { caught } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_REPLY_BYTES, RegistrationError, registerOsad } from "../src/index.js";
import { cleanupTempDirs, tempDir } from "./helpers.js";
import { systemIdXml } from "./xmlrpc-server.js";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await cleanupTempDirs();
});

/** An HTTP server answering every request with `bytes` of XML-RPC reply, streamed. */
async function hugeReplyServer(
  bytes: number,
  declareLength: boolean,
): Promise<{ url: string; sent: () => number }> {
  let sent = 0;
  const server = http.createServer((_, res) => {
    res.writeHead(200, {
      "Content-Type": "text/xml",
      ...(declareLength ? { "Content-Length": String(bytes) } : {}),
    });
    const head = '<?xml version="1.0"?><methodResponse><params><param><value><string>';
    res.write(head);
    sent = head.length;
    const chunk = "x".repeat(64 * 1024);
    const more = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", more);
      }
      res.end("</string></value></param></params></methodResponse>");
    };
    res.on("error", () => undefined);
    more();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/XMLRPC`, sent: () => sent };
}

describe("registerOsad reply size limit", () => {
  it.each([
    ["declared in Content-Length", true],
    ["streamed without a length", false],
  ])("refuses a 400 MB reply %s after reading at most 1 MiB", async (_, declared) => {
    const server = await hugeReplyServer(400 * 1024 * 1024, declared);
    const systemidPath = join(await tempDir(), "systemid");
    await writeFile(systemidPath, systemIdXml(1000010001));
    const error = await caught(() => registerOsad({ serverUrl: server.url, systemidPath }));
    expect(error).toBeInstanceOf(RegistrationError);
    expect(error).toMatchObject({ reason: "too-large" });
    expect((error as Error).message).toMatch(/more than the 1048576 bytes accepted; refused/);
    // The server stops being read: far less than 400 MB leaves it (socket buffers aside).
    expect(server.sent()).toBeLessThan(MAX_REPLY_BYTES + 32 * 1024 * 1024);
  });
});
