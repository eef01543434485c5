// `tools/bench raw`: osad2's work done by bare zeromq.js in the same topology (CURVE, a ZAP
// allow-list, the server's socket options; "single": ROUTER ↔ DEALER, "pair": PUB + ROUTER ↔
// SUB + DEALER; N clients in several processes), so the other benches can print osad2's figure
// beside the floor under it.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { freePorts, sleep, tempDir } from "@osad2/test-helpers";
import * as zmq from "zeromq";
import type { BenchOptions, RawTopology } from "../options.js";
import { cpuPercent, sampleProcess } from "../proc.js";
import { BenchTimeoutError, type Log } from "../setup.js";
import { distribution, type Distribution } from "../stats.js";
import type { RawClientsSpec } from "./clients-main.js";
import type { RawServerSpec } from "./server-main.js";

/** What bare zeromq did with N clients; the same fields osad2's benches compare against. */
export interface RawResult {
  readonly what: string;
  readonly topology: RawTopology;
  readonly clients: number;
  readonly processes: number;
  /** First client started → every client ready (both handshakes done, hello answered). */
  readonly connectMs: number;
  readonly server: {
    readonly rssIdleMiB: number;
    readonly rssWithClientsMiB: number;
    /** (RSS with N − RSS idle) / N. */
    readonly rssPerClientKiB: number;
    readonly fds: number;
  };
  /** One message to every client's topic. */
  readonly fanout: {
    /** First send → last send returned. */
    readonly sendAllMs: number;
    /** First send → the last client received its message. */
    readonly allReceivedMs: number;
    readonly received: number;
  };
  /** N idle clients pinged every --ping-interval, over --steady seconds. */
  readonly steady: {
    readonly windowSeconds: number;
    readonly pingIntervalSeconds: number;
    /** The raw server's CPU, % of one core. */
    readonly serverCpuPercent: number;
    /** Pongs the server received in the window (≈ N × window / interval). */
    readonly pongs: number;
  };
  /** The server killed, down for --down seconds, started again. */
  readonly restart: {
    readonly downSeconds: number;
    /** Restarted server listening → every client ready again. */
    readonly allReadyMs: number;
    /** Restarted server listening → each client ready. */
    readonly readyDelay: Distribution | undefined;
    readonly ready: number;
    /** The restarted server's event-loop delay (perf_hooks) from its start to every client ready. */
    readonly eventLoopLagMaxMs: number;
    readonly eventLoopLagP99Ms: number;
  };
}

type Line = Record<string, unknown> & { event?: string };

const here = path.dirname(fileURLToPath(import.meta.url));
/** The child scripts are built (dist/raw-*.js); the tests run this file from src/raw/. */
const distDir = path.basename(here) === "dist" ? here : path.resolve(here, "../../dist");

/** A child that died on its own: every wait gives up at once with its exit status. */
let childFailure: string | undefined;

function spawnChild(
  script: string,
  env: Record<string, string>,
  onLine: (line: Line) => void,
): ChildProcess {
  const child = spawn(process.execPath, [path.join(distDir, script)], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  child.once("exit", (code, signal) => {
    if (code !== 0 && signal === null) childFailure = `${script} exited with status ${code}`;
  });
  readline
    .createInterface({ input: child.stdout! })
    .on("line", (text) => onLine(JSON.parse(text) as Line));
  return child;
}

async function until(
  what: string,
  done: () => boolean,
  timeoutMs: number,
  state: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (childFailure !== undefined) throw new Error(`${what}: ${childFailure} (see its stderr)`);
    if (Date.now() > deadline) throw new BenchTimeoutError(what, timeoutMs, `: ${state()}`);
    await sleep(2);
  }
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/** Runs the raw topology with `options.clients` clients: connect, fan-out, restart. */
export async function raw(options: BenchOptions, log: Log): Promise<RawResult> {
  const n = options.clients;
  childFailure = undefined;
  const dir = await tempDir("osad2-bench-raw-");
  const children = new Set<ChildProcess>();
  try {
    const serverKeys = zmq.curveKeyPair();
    const clients = Array.from({ length: n }, (_, i) => ({ id: `raw${i}`, ...zmq.curveKeyPair() }));
    const allowedFile = path.join(dir.path, "allowed");
    writeFileSync(allowedFile, clients.map((c) => c.publicKey).join("\n"));
    const [pubPort, routerPort] = await freePorts(2);
    const topology = options.topology;
    const serverSpec: RawServerSpec = {
      topology,
      pingIntervalMs: options.pingInterval * 1000,
      secretKey: serverKeys.secretKey,
      publicKey: serverKeys.publicKey,
      allowedFile,
      publisherEndpoint: `tcp://127.0.0.1:${pubPort}`,
      routerEndpoint: `tcp://127.0.0.1:${routerPort}`,
    };
    let listeningAt = 0;
    let published: Line | undefined;
    let sampled: Line | undefined;
    const startServer = async (): Promise<ChildProcess> => {
      listeningAt = 0;
      const server = spawnChild(
        "raw-server.js",
        { RAW_SERVER: JSON.stringify(serverSpec) },
        (line) => {
          if (line.event === "listening") listeningAt = Number(line.at);
          if (line.event === "published") published = line;
          if (line.event === "sample") sampled = line;
        },
      );
      children.add(server);
      await until(
        "the raw server to listen",
        () => listeningAt > 0,
        30_000,
        () => "",
      );
      return server;
    };
    // Time for RSS to settle before it is read: seconds at thousands of clients, less for a few.
    const settleMs = Math.min(2_000, 10 * n);
    let server = await startServer();
    await sleep(settleMs);
    const idle = sampleProcess(server.pid ?? -1);

    const readyAt = new Map<string, number>();
    const checkinAt = new Map<string, number>();
    const perProcess = Math.max(1, options.clientsPerProcess);
    const processes = Math.ceil(n / perProcess);
    const started = Date.now();
    for (let p = 0; p < processes; p++) {
      const spec: RawClientsSpec = {
        topology,
        serverKey: serverKeys.publicKey,
        publisherEndpoint: serverSpec.publisherEndpoint,
        routerEndpoint: serverSpec.routerEndpoint,
        connectRate: options.connectRate / processes,
        clients: clients.slice(p * perProcess, (p + 1) * perProcess),
      };
      const child = spawnChild("raw-clients.js", { RAW_CLIENTS: JSON.stringify(spec) }, (line) => {
        const id = String(line.id);
        if (line.event === "ready") readyAt.set(id, Number(line.at));
        else if (line.event === "checkin" && !checkinAt.has(id)) checkinAt.set(id, Number(line.at));
      });
      children.add(child);
    }
    const timeoutMs = options.timeoutSeconds * 1000;
    await until(
      "every raw client ready",
      () => readyAt.size >= n,
      timeoutMs,
      () => `${readyAt.size}/${n}`,
    );
    const connectMs = Math.max(...readyAt.values()) - started;
    log(`raw: ${n} clients ready after ${connectMs} ms in ${processes} processes`);
    await sleep(settleMs);
    const loaded = sampleProcess(server.pid ?? -1);

    server.stdin!.write(`${JSON.stringify({ cmd: "publish", ids: clients.map((c) => c.id) })}\n`);
    await until(
      "every raw checkin",
      () => checkinAt.size >= n,
      timeoutMs,
      () => `${checkinAt.size}/${n}`,
    );
    await until(
      "the raw publish report",
      () => published !== undefined,
      timeoutMs,
      () => "",
    );
    const sendStart = Number(published?.start);
    const fanout = {
      sendAllMs: Number(published?.end) - sendStart,
      allReceivedMs: Math.max(...checkinAt.values()) - sendStart,
      received: checkinAt.size,
    };
    log(`raw: every client had its message ${fanout.allReceivedMs} ms after the first send`);

    const sample = async (): Promise<Line> => {
      sampled = undefined;
      server.stdin!.write(`${JSON.stringify({ cmd: "sample" })}\n`);
      await until(
        "the raw server's sample",
        () => sampled !== undefined,
        timeoutMs,
        () => "",
      );
      return (sampled as Line | undefined) ?? {};
    };
    server.stdin!.write(`${JSON.stringify({ cmd: "ping", on: true })}\n`);
    log(`raw: pinging every ${options.pingInterval} s; server CPU over ${options.steadySeconds} s`);
    await sleep(options.pingInterval * 1000);
    const pongsBefore = Number((await sample()).pongs);
    const s0 = sampleProcess(server.pid ?? -1);
    await sleep(options.steadySeconds * 1000);
    const s1 = sampleProcess(server.pid ?? -1);
    const steady = {
      windowSeconds: options.steadySeconds,
      pingIntervalSeconds: options.pingInterval,
      serverCpuPercent: cpuPercent(s0, s1),
      pongs: Number((await sample()).pongs) - pongsBefore,
    };
    server.stdin!.write(`${JSON.stringify({ cmd: "ping", on: false })}\n`);
    log(`raw: steady state ${steady.serverCpuPercent} % CPU, ${steady.pongs} pongs`);

    server.kill("SIGKILL");
    await stopped(server);
    children.delete(server);
    const downAt = Date.now();
    log(`raw: server killed, down ${options.downSeconds} s`);
    await sleep(options.downSeconds * 1000);
    server = await startServer();
    const restartedAt = listeningAt;
    const readyAgain = (): number => [...readyAt.values()].filter((at) => at >= restartedAt).length;
    await until(
      "every raw client ready after the restart",
      () => readyAgain() >= n,
      timeoutMs,
      () => `${readyAgain()}/${n}`,
    );
    const allReadyMs = Math.max(...readyAt.values()) - restartedAt;
    const storm = await sample();
    log(
      `raw: every client ready ${allReadyMs} ms after the restart (down ${Math.round((restartedAt - downAt) / 100) / 10} s)`,
    );
    return {
      what:
        topology === "single"
          ? "bare zeromq.js: CURVE ROUTER (mandatory) with a ZAP allow-list and the server's socket options; clients DEALER, reconnect every 100 ms; checkins and pings per connection"
          : "bare zeromq.js: CURVE PUB + ROUTER with a ZAP allow-list and the server's socket options; clients SUB + DEALER, reconnect every 100 ms",
      topology,
      clients: n,
      processes,
      connectMs,
      server: {
        rssIdleMiB: mib(idle.rssKiB),
        rssWithClientsMiB: mib(loaded.rssKiB),
        rssPerClientKiB: Math.round(((loaded.rssKiB - idle.rssKiB) / n) * 10) / 10,
        fds: loaded.fds,
      },
      fanout,
      steady,
      restart: {
        downSeconds: options.downSeconds,
        allReadyMs,
        readyDelay: distribution([...readyAt.values()].map((at) => at - restartedAt)),
        ready: readyAgain(),
        eventLoopLagMaxMs: Number(storm.lagMaxMs),
        eventLoopLagP99Ms: Number(storm.lagP99Ms),
      },
    };
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all([...children].map(stopped));
    await dir.remove();
  }
}
