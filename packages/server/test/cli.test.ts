import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateKeyPair, KeyStore, readPublicKey, certificateLayout } from "@osad2/keys";
import { freePort, waitFor } from "@osad2/test-helpers";

import { scheduleAction } from "../src/testing/index.js";
import type { SpacewalkStore } from "../src/db/types.js";
import { clientName, seedClient, TestClient } from "./core-fixtures.js";
import { openStore } from "../src/db/index.js";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on("line", (line) => lines.push(line));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { process: child, lines, exited };
}

async function runToEnd(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { code, stdout, stderr };
}

/**
 * scheduleAction from this process while the server process writes presence to the same
 * SQLite file. The seeding transaction reads before it writes (a deferred BEGIN), and SQLite
 * then answers SQLITE_BUSY at once instead of waiting when the other process committed in
 * between; retry that case (reported to the database layer's owner).
 */
async function scheduleWhileServerWrites(store: SpacewalkStore, serverId: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await scheduleAction(store, { serverIds: [serverId] });
    } catch (error) {
      if (attempt >= 5 || !/database is locked/.test(String(error))) throw error;
    }
  }
}

describe("osad2-server CLI (real child processes, SQLite)", () => {
  let dir: string;
  let configPath: string;
  let ports: { publisher: number; listener: number; metrics: number; xmlrpc: number };
  const children: Child[] = [];
  const clients: TestClient[] = [];
  let store: SpacewalkStore | undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "osad2-cli-"));
    ports = {
      publisher: await freePort(),
      listener: await freePort(),
      metrics: await freePort(),
      xmlrpc: await freePort(),
    };
    configPath = path.join(dir, "osad_server.cfg");
    await writeConfig({});
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null)
        child.process.kill("SIGKILL");
      await child.exited;
    }
    await store?.close();
    store = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function writeConfig(extra: Record<string, string | number>): Promise<void> {
    const values: Record<string, string | number> = {
      database: `sqlite:${path.join(dir, "db", "osad2.db")}`,
      certificates: path.join(dir, "certs"),
      bind: "127.0.0.1",
      public_host: "127.0.0.1",
      publisher_port: ports.publisher,
      listener_port: ports.listener,
      proxy_port: 0,
      xmlrpc_port: ports.xmlrpc,
      metrics_port: ports.metrics,
      ping_interval: 0.2,
      action_poll_interval: 30,
      pidfile: path.join(dir, "run", "osad2-server.pid"),
      state_dir: path.join(dir, "state"),
      ...extra,
    };
    await fs.writeFile(
      configPath,
      `[main]\n${Object.entries(values)
        .map(([k, v]) => `${k} = ${v}`)
        .join("\n")}\n`,
    );
  }

  async function healthy(): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${ports.metrics}/healthz`)).status === 200;
    } catch {
      return false;
    }
  }

  function runServer(): Child {
    const child = start(["run", "--config", configPath]);
    children.push(child);
    return child;
  }

  /** A registered system whose client (key allowed in the server's store) is connected. */
  async function connectedSystem() {
    store ??= await openStore(`sqlite:${path.join(dir, "db", "osad2.db")}`);
    const name = clientName();
    const serverId = await seedClient(store, name);
    const pair = generateKeyPair();
    const keys = await KeyStore.open(path.join(dir, "certs"), {
      pollIntervalMs: 0,
      fsWatch: false,
    });
    await keys.add(name, pair.publicKey);
    await keys.close();
    const client = TestClient.connect({
      name,
      keyPair: pair,
      serverPublicKey: await readPublicKey(
        certificateLayout(path.join(dir, "certs")).serverPublicPath,
      ),
      publisher: `tcp://127.0.0.1:${ports.publisher}`,
      listener: `tcp://127.0.0.1:${ports.listener}`,
    });
    clients.push(client);
    return { name, serverId, client };
  }

  /** A connected system, online and past its hello's catch-up round, with an action queued for it. */
  async function onlineSystemWithQueuedAction() {
    const system = await connectedSystem();
    const { serverId, name, client } = system;
    await waitFor("online", async () => (await store?.findClient(name))?.state === "online");
    // Past the hello's catch-up round (250 ms after the hello): pings come every 200 ms.
    const pingsOnline = client.pings;
    await waitFor("three more pings", () => client.pings >= pingsOnline + 3);
    await scheduleWhileServerWrites(store as SpacewalkStore, serverId);
    return system;
  }

  it("init creates the schema and server keys once; run serves, status reports, SIGHUP reloads, SIGTERM exits 0", async () => {
    const init = await runToEnd(["init", "--config", configPath]);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ schema: "created", keys: { created: true } });
    const again = await runToEnd(["init", "--config", configPath]);
    expect(JSON.parse(again.stdout)).toMatchObject({
      schema: "created",
      migrationsApplied: [],
      keys: { created: false },
    });

    const server = runServer();
    await waitFor("healthy", healthy);
    const pid = Number(
      (await fs.readFile(path.join(dir, "run", "osad2-server.pid"), "utf8")).trim(),
    );
    expect(pid).toBe(server.process.pid);
    expect(server.lines.some((l) => l.includes('"msg":"osad2-server running"'))).toBe(true);
    expect(server.lines.every((l) => l.startsWith("{"))).toBe(true); // JSON lines only

    const { client } = await onlineSystemWithQueuedAction();
    // The poll is 30 s away, but the server watches the SQLite file: this process's commit
    // wakes it at once.
    await waitFor("announced on the commit", () => client.checkins >= 1);
    const status = await runToEnd(["status", "--config", configPath]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      running: true,
      pid,
      health: { healthy: true },
      database: { ok: true, clientsOnline: 1 },
    });
    // A bad edit is refused as strictly as at start, and the running configuration stays.
    await writeConfig({ action_poll_interval: 0.2, jabber_server: "old.example.com" });
    server.process.kill("SIGHUP");
    await waitFor("reload refused", () =>
      server.lines.some(
        (l) => l.includes("reload failed") && l.includes('unknown key \\"jabber_server\\"'),
      ),
    );
    expect(server.lines.some((l) => l.includes("configuration reloaded"))).toBe(false);
    await writeConfig({ action_poll_interval: 0.2 });
    server.process.kill("SIGHUP");
    await waitFor("reload applied", () =>
      server.lines.some(
        (l) => l.includes("configuration reloaded") && l.includes("actionPollInterval"),
      ),
    );

    server.process.kill("SIGTERM");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    await expect(fs.access(path.join(dir, "run", "osad2-server.pid"))).rejects.toThrow();
    expect(await healthy()).toBe(false);
    const stopped = await runToEnd(["status", "--config", configPath]);
    expect(stopped.code).toBe(3);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ running: false });
  });

  it("kill -9, an action queued while the server is down, restart: the action is delivered", async () => {
    expect((await runToEnd(["init", "--config", configPath])).code).toBe(0);
    const first = runServer();
    await waitFor("healthy", healthy);
    const { client, serverId, name } = await connectedSystem();
    await waitFor("online", async () => (await store?.findClient(name))?.state === "online");
    first.process.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    // Nobody watches the file now: only the restarted server can announce it.
    await scheduleWhileServerWrites(store as SpacewalkStore, serverId);
    expect(client.checkins).toBe(0);

    const second = runServer(); // the stale pidfile is replaced
    await waitFor("delivered after restart", () => client.checkins >= 1);
    second.process.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });

  it("bad configuration: one clear line on stderr, exit 2", async () => {
    await writeConfig({ publisher_port: "70000" });
    const result = await runToEnd(["run", "--config", configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `osad2-server: ${configPath} line 6: publisher_port = "70000" is not a TCP port (1-65535) or 0: write e.g. publisher_port = 5555`,
    );
    const missing = await runToEnd(["run", "--config", path.join(dir, "nope.cfg")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.cfg \(ENOENT\)/);
    // Strict in every command: an unknown key is an error naming its line, in status too.
    await writeConfig({ jabber_server: "old.example.com" });
    for (const command of ["status", "init"]) {
      const strict = await runToEnd([command, "--config", configPath]);
      expect(strict.code).toBe(2);
      expect(strict.stderr).toMatch(/osad_server\.cfg line \d+: unknown key "jabber_server"/);
    }
    const usage = await runToEnd(["run", "--bogus"]);
    expect(usage.code).toBe(2);
  });
});
