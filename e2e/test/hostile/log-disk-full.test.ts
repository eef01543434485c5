// The disk holding the server's log_file fills up (a real 1 MiB tmpfs): the real server goes on
// answering /healthz, pinging and notifying, counts the lines it lost in
// osad2_log_lines_dropped_total, and logs again once space returns. The landed build blocked
// its event loop for ~85 s and then died of an unhandled ENOSPC 'error' event.
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

const asRoot = process.getuid?.() === 0;
let d: Deployment;
let disk: string;
let logFile: string;
let mounted = false;

beforeAll(async () => {
  if (!asRoot) return;
  d = await Deployment.create({ database: "sqlite" });
  disk = path.join(d.dir, "logdisk");
  await fs.mkdir(disk);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk]);
  mounted = true;
  logFile = path.join(disk, "server.log");
  await d.writeServerConfig({ log_file: logFile });
  await d.init();
  await d.addSystem("c");
  await d.startServer();
  d.startClient("c");
  await d.waitOnline("c");
});
afterAll(async () => {
  await d?.dispose().catch(() => undefined);
  if (mounted) execFileSync("umount", ["-l", disk]);
});

/** /healthz must answer within 1 s: a blocked event loop fails here. */
async function healthz(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${d.ports.metrics}/healthz`, {
    signal: AbortSignal.timeout(1000),
  });
  return res.status;
}

async function droppedLines(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${d.ports.metrics}/metrics`);
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith("osad2_log_lines_dropped_total "));
  return line === undefined ? Number.NaN : Number(line.split(" ")[1]);
}

/** Requests the server logs (at debug level) and answers with a fault. */
async function loggedRequests(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const res = await fetch(d.registrationUrl, { method: "POST", body: `<not-xml-rpc ${i}` });
    expect(res.status).toBe(200);
    await res.text();
  }
}

async function fillDisk(): Promise<string> {
  const filler = path.join(disk, "filler");
  const handle = await fs.open(filler, "w");
  try {
    for (;;) await handle.write(Buffer.alloc(64 * 1024, 1));
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
  } finally {
    await handle.close();
  }
  return filler;
}

describe("the log disk full", () => {
  it("keeps serving, counts lost lines, and logs again when space returns", async () => {
    // Never a silent skip: a full disk needs a real tmpfs, and mounting one needs root.
    if (!asRoot) throw new Error("needs root to mount a tmpfs: run tools/test as root, as CI does");
    expect(await droppedLines()).toBe(0);
    const filler = await fillDisk();
    await loggedRequests(300);
    await waitFor("lost log lines counted", async () => (await droppedLines()) > 0);
    // Serving goes on: health, pings to the client, a notification and its rhn_check.
    expect(await healthz()).toBe(200);
    await d.pingRounds("c", 2);
    await d.schedule(["c"]);
    await waitFor("the client ran rhn_check", async () => (await d.runs()).length >= 1);
    expect(await healthz()).toBe(200);
    const lost = await droppedLines();

    await fs.rm(filler);
    await loggedRequests(5);
    await waitFor("logging resumed with a report of the lost lines", async () => {
      const text = await fs.readFile(logFile, "utf8");
      return /log lines were lost while the log file could not be written/.test(text);
    });
    const lines = (await fs.readFile(logFile, "utf8")).split("\n").filter((l) => l !== "");
    const report = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => "dropped" in l);
    expect(report).toMatchObject({ cause: "ENOSPC" });
    expect(Number(report?.dropped)).toBeGreaterThan(0);
    expect(await droppedLines()).toBeGreaterThanOrEqual(lost);
    expect(d.server?.child.exitCode).toBeNull();
    expect(await healthz()).toBe(200);
  });
});
