// A config mistake is an error in every command and on reload, naming file, line and key, and
// a start that cannot work creates nothing. The built CLI as real processes, every path of
// the config inside a fresh temp tree that is checked to stay as it was.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "@osad2/test-helpers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

async function runToEnd(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { code, stderr };
}

/** Every path under `root`, relative, sorted (empty when nothing was created). */
async function tree(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true });
  return entries.map(String).sort();
}

const KNOWN_KEYS =
  "known keys: bind, publisher_port, listener_port, proxy_port, ping_interval, action_poll_interval, notify_threshold, certificates, log_file, debug, pidfile, database, database_schema, xmlrpc_port, xmlrpc_bind, public_host, failover_servers, tls_cert, tls_key, renotify_interval, renotify_picked_up, allow_unsigned_clients, missed_pings, last_message_refresh, state_dir, metrics_port, metrics_bind";

describe("osad2-server config mistakes (real processes)", () => {
  let dir: string;
  /** Where every path of the config points; nothing may appear here on a failed start. */
  let root: string;
  let configPath: string;
  let base: string[];
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "osad2-cli-config-"));
    root = path.join(dir, "tree");
    await fs.mkdir(root);
    configPath = path.join(dir, "osad_server.cfg");
    base = [
      `database = sqlite:${path.join(root, "var", "lib", "osad2", "osad2.db")}`,
      `certificates = ${path.join(root, "etc", "rhn", "osad2-server", "certs")}`,
      `log_file = ${path.join(root, "var", "log", "osad2", "server.log")}`,
      `pidfile = ${path.join(root, "run", "osad2", "server.pid")}`,
      "bind = 127.0.0.1",
      "public_host = 127.0.0.1",
      `publisher_port = ${await freePort()}`,
      `listener_port = ${await freePort()}`,
      "proxy_port = 0",
      "xmlrpc_port = 0",
      "metrics_port = 0",
    ];
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The config file from lines; returns the 1-based line of the last one. */
  async function write(lines: string[]): Promise<number> {
    await fs.writeFile(configPath, `${lines.join("\n")}\n`);
    return lines.length;
  }

  /** Each mistake: the file's lines and the one line of error it must give. */
  const mistakes: Array<[string, () => Promise<string>]> = [
    [
      "a typo'd key",
      async () => {
        const line = await write(["[main]", ...base, "ping_intervall = 2"]);
        return `${configPath} line ${line}: unknown key "ping_intervall" in [main]: fix its spelling or remove it (${KNOWN_KEYS})`;
      },
    ],
    [
      "a wrong section header",
      async () => {
        await write(["[mian]", ...base]);
        return `${configPath} line 1: unknown section [mian] (holding database, certificates, log_file, pidfile, bind, public_host, …): osad2-server reads only [main] and [DEFAULT]; rename it [main]`;
      },
    ],
    [
      "a missing section header",
      async () => {
        await write(base);
        return `${configPath} line 1: key "database" before any section header: put [main] on a line above it`;
      },
    ],
    [
      "a bad value",
      async () => {
        const line = await write(["[main]", ...base, "ping_interval = soon"]);
        return `${configPath} line ${line}: ping_interval = "soon" is not a number of seconds from 0.01 to 86400: write e.g. ping_interval = 10`;
      },
    ],
    [
      "a typo'd key under [DEFAULT]",
      async () => {
        const line = await write(["[DEFAULT]", ...base, "ping_intervall = 2"]);
        return `${configPath} line ${line}: unknown key "ping_intervall" in [DEFAULT], and no value refers to it with %(ping_intervall)s: fix its spelling or remove it (${KNOWN_KEYS})`;
      },
    ],
  ];

  describe.each(mistakes)("%s", (_name, make) => {
    it.each([["run"], ["init"], ["status"], ["doctor", "web01"]])(
      "%s: one line naming file, line and key, exit 2, nothing created",
      async (...command) => {
        const expected = await make();
        const result = await runToEnd([...command, "--config", configPath]);
        expect(result.stderr).toBe(`osad2-server: ${expected}\n`);
        expect(result.code).toBe(2);
        expect(await tree(root)).toEqual([]);
      },
    );
  });

  it("a start before init (no server key): exit 1 saying to run init, and nothing created — nor by status", async () => {
    await write(["[main]", ...base]);
    const keyPath = path.join(root, "etc", "rhn", "osad2-server", "certs", "private_keys");
    for (const args of [["run"], ["run", "-d"]]) {
      const result = await runToEnd([...args, "--config", configPath]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `osad2-server: no server key pair: ${keyPath}/server.key_secret does not exist — run \`osad2-server init\` with this config (or osad2-packager createserver), or set certificates to the directory holding private_keys/; nothing was created\n`,
      );
      expect(await tree(root)).toEqual([]);
    }
    const status = await runToEnd(["status", "--config", configPath]);
    expect(status.code).toBe(3);
    expect(await tree(root)).toEqual([]);
    // doctor and systems only read: what is missing is named, never made.
    const database = path.join(root, "var", "lib", "osad2", "osad2.db");
    for (const args of [["doctor", "web01"], ["systems"]]) {
      const result = await runToEnd([...args, "--config", configPath]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `osad2-server: ${database} does not exist: run osad2-server init\n`,
      );
      expect(await tree(root)).toEqual([]);
    }
  });

  it("SIGHUP with each mistake: logged at error level naming file, line and key; keeps running on the old config", async () => {
    await write(["[main]", ...base, "action_poll_interval = 30"]);
    expect((await runToEnd(["init", "--config", configPath])).code).toBe(0);
    const child = spawn(process.execPath, [CLI, "run", "--config", configPath], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    const logFile = path.join(root, "var", "log", "osad2", "server.log");
    const logLines = async (): Promise<Array<{ level: number; msg: string }>> =>
      (await fs.readFile(logFile, "utf8").catch(() => ""))
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { level: number; msg: string });
    const stderr: string[] = [];
    readline.createInterface({ input: child.stderr }).on("line", (l) => stderr.push(l));
    await waitFor("running", async () =>
      (await logLines()).some((l) => l.msg === "osad2-server running"),
    );

    for (const [name, make] of mistakes) {
      const expected = await make();
      const before = (await logLines()).length;
      child.kill("SIGHUP");
      const refused = await waitFor(`reload refused: ${name}`, async () =>
        (await logLines()).slice(before).find((l) => l.msg.startsWith("reload failed")),
      );
      expect(refused).toMatchObject({
        level: 50,
        msg: `reload failed; keeping the running configuration: ${expected}`,
      });
      expect(child.exitCode).toBeNull();
    }
    // Still the configuration it started with: a good file differing in one key applies that key only.
    await write(["[main]", ...base, "action_poll_interval = 20"]);
    const before = (await logLines()).length;
    child.kill("SIGHUP");
    const applied = await waitFor("reload applied", async () =>
      (await logLines()).slice(before).find((l) => l.msg === "configuration reloaded"),
    );
    expect(applied).toMatchObject({ applied: ["actionPollInterval"] });
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
    expect(stderr).toEqual([]);
  });
});
