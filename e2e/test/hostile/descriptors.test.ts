// The server at its descriptor limit (RLIMIT_NOFILE 200), flooded with idle TCP connections
// on its ZeroMQ ports by an attacker that reconnects whatever it loses. The landed build spun
// in libzmq's failing accept (110–125 % CPU), /healthz went silent and nothing was logged.
// Now: under 30 % CPU, /healthz 503 naming the exhausted descriptors, one log line, and it
// recovers by itself once the connections go (a real client online again and checking in).
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TempDirs, waitFor } from "@osad2/test-helpers";
import { cliPath, Deployment } from "@osad2/testkit";

const dirs = new TempDirs("osad2-e2e-fd-");
let d: Deployment | undefined;
let attacker: Attacker | undefined;
afterEach(async () => {
  attacker?.stop();
  attacker = undefined;
  await d?.dispose();
  d = undefined;
  await dirs.removeAll();
});

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** `osad2-server` started through `sh` with `prelude` first (ulimit), then exec'ing node. */
async function serverWrapper(dir: string, prelude: string): Promise<string> {
  const script = path.join(dir, "osad2-server-wrapped");
  await fs.writeFile(
    script,
    `#!/bin/sh\n${prelude}\nexec "${process.execPath}" "${cliPath("server")}" "$@"\n`,
    { mode: 0o755 },
  );
  return script;
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Keeps `count` idle TCP connections open to the ports, reconnecting each one it loses. */
class Attacker {
  private readonly sockets = new Set<net.Socket>();
  private stopped = false;

  constructor(
    private readonly ports: readonly number[],
    private readonly count: number,
  ) {
    for (let i = 0; i < count; i++) this.open(i);
  }

  private open(i: number): void {
    if (this.stopped) return;
    const socket = net.connect({ host: "127.0.0.1", port: this.ports[i % this.ports.length] ?? 0 });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.sockets.delete(socket);
      setTimeout(() => this.open(i), 100);
    });
    this.sockets.add(socket);
  }

  stop(): void {
    this.stopped = true;
    for (const socket of this.sockets) socket.destroy();
  }
}

async function healthz(dep: Deployment): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${dep.ports.metrics}/healthz`, {
    signal: AbortSignal.timeout(2_000),
  });
  return { status: res.status, body: await res.text() };
}

describe("descriptor limit", () => {
  it("raises its soft RLIMIT_NOFILE to the hard limit at start", async () => {
    const bin = await serverWrapper(await dirs.make(), "ulimit -S -n 300");
    const dep = (d = await Deployment.create({ database: "sqlite", bins: { server: bin } }));
    await dep.init();
    const server = await dep.startServer();
    const limits = await fs.readFile(`/proc/${server.pid}/limits`, "utf8");
    const [, soft, hard] = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits) ?? [];
    expect(Number(hard)).toBeGreaterThan(300);
    expect(soft).toBe(hard);
    await dep.stopServer();
  });

  it("at the limit: under 30 % CPU, /healthz 503 naming it, logged once, and recovers by itself", async () => {
    d = await Deployment.create({
      database: "sqlite",
      bins: { server: await serverWrapper(await dirs.make(), "ulimit -n 200") },
    });
    await d.init();
    await d.addSystem("web01");
    const server = await d.startServer();
    d.startClient("web01");
    await d.waitOnline("web01");
    const dep = d;

    attacker = new Attacker([dep.ports.listener, dep.ports.publisher], 260);
    let report = "";
    await waitFor(
      "/healthz 503 naming the descriptors",
      async () => {
        const { status, body } = await healthz(dep).catch(() => ({ status: 0, body: "" }));
        report = body;
        return status === 503 && /file descriptors exhausted/.test(body);
      },
      { timeoutMs: 20_000, everyMs: 200 },
    );
    expect(report).toMatch(/limit of 200/);
    // The attacker keeps reconnecting: measure the server's CPU over 4 s of that.
    const cpuBefore = await cpuSeconds(server.pid);
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const share = ((await cpuSeconds(server.pid)) - cpuBefore) / ((Date.now() - startedAt) / 1000);
    expect(share).toBeLessThan(0.3);
    expect(server.matching(/file descriptors exhausted/)).toHaveLength(1);

    attacker.stop();
    attacker = undefined;
    await waitFor("/healthz 200 again", async () => (await healthz(dep)).status === 200, {
      timeoutMs: 90_000,
      everyMs: 250,
    });
    // Reconnected: it hears pings again (its row may still say online from before).
    await dep.pingRounds("web01", 2, 60_000);
    await dep.waitOnline("web01", 60_000);
    dep.emulateSpacewalk();
    await dep.schedule(["web01"]);
    await waitFor(
      "web01's checkin after recovery",
      async () => (await dep.runs()).some((run) => run.label === "web01"),
      { timeoutMs: 60_000 },
    );
  });
});
