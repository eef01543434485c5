// The seed's init scripts call `osad2-server -c FILE -d`: the real binary, as they would.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, tempDir, waitFor, type TempDir } from "@osad2/test-helpers";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

async function runToEnd(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { code, stdout, stderr, ms: Date.now() - started };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("osad2-server as the seed's init scripts call it: -c FILE [-d]", () => {
  let dir: TempDir;
  let configPath: string;
  let pidfile: string;
  let logFile: string;
  let metricsPort: number;
  const daemons: number[] = [];

  beforeEach(async () => {
    dir = await tempDir("osad2-cli-seed-");
    configPath = path.join(dir.path, "osad_server.cfg");
    pidfile = path.join(dir.path, "run", "osad2-server.pid");
    logFile = path.join(dir.path, "log", "osad2-server.log");
    metricsPort = await freePort();
    await writeConfig({ pidfile, log_file: logFile });
    const init = await runToEnd(["init", "-c", configPath]);
    expect(init.code, init.stderr).toBe(0);
  });

  afterEach(async () => {
    for (const pid of daemons.splice(0)) {
      if (alive(pid)) process.kill(pid, "SIGKILL");
      await waitFor("daemon gone", () => !alive(pid));
    }
    await dir.remove();
  });

  async function writeConfig(extra: Record<string, string>): Promise<void> {
    const values: Record<string, string | number> = {
      database: `sqlite:${path.join(dir.path, "db", "osad2.db")}`,
      certificates: path.join(dir.path, "certs"),
      state_dir: path.join(dir.path, "state"),
      bind: "127.0.0.1",
      public_host: "127.0.0.1",
      publisher_port: 0,
      listener_port: 0,
      proxy_port: 0,
      xmlrpc_port: 0,
      metrics_port: metricsPort,
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
      return (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status === 200;
    } catch {
      return false;
    }
  }

  it("-c FILE -d starts the server in the background, exits 0 once its pidfile names it; SIGTERM stops it", async () => {
    const started = await runToEnd(["-c", configPath, "-d"]);
    expect(started, started.stderr).toMatchObject({ code: 0, stdout: "", stderr: "" });
    // The pidfile is in place when the command returns: an init script reads it next.
    const pid = Number((await fs.readFile(pidfile, "utf8")).trim());
    daemons.push(pid);
    expect(alive(pid)).toBe(true);
    await waitFor("the detached server is healthy", healthy);
    // In its own session, away from the caller's terminal and process group.
    const stat = (await fs.readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
    expect(Number(stat[3])).toBe(pid); // session id (field 6) = its own pid
    expect(stat[4]).toBe("0"); // no controlling terminal
    await waitFor("it logs to log_file", async () =>
      (await fs.readFile(logFile, "utf8").catch(() => "")).includes('"msg":"osad2-server running"'),
    );
    process.kill(pid, "SIGTERM");
    await waitFor("stopped", () => !alive(pid));
    await expect(fs.access(pidfile)).rejects.toThrow();
  });

  it("-d refuses, exit 2 and one line, without log_file or pidfile; nothing is left running", async () => {
    await writeConfig({ pidfile });
    const noLog = await runToEnd(["-c", configPath, "-d"]);
    expect(noLog.code).toBe(2);
    expect(noLog.stderr.trim().split("\n")).toHaveLength(1);
    expect(noLog.stderr).toContain(`-d (detach) needs log_file set in ${configPath}`);
    expect(noLog.stderr).toContain("systemctl start osad2-server");
    await writeConfig({ log_file: logFile });
    const noPid = await runToEnd(["-c", configPath, "-d"]);
    expect(noPid.code).toBe(2);
    expect(noPid.stderr).toContain(`-d (detach) needs pidfile set in ${configPath}`);
    await expect(fs.access(pidfile)).rejects.toThrow();
    expect(await healthy()).toBe(false);
  });

  it("-d reports a server that fails at start, with exit 1 and where to look", async () => {
    // The metrics port taken: the background server exits 1 before it is up.
    const blocker = await import("node:net").then(
      (net) =>
        new Promise<import("node:net").Server>((resolve) => {
          const server = net.createServer();
          server.listen(metricsPort, "127.0.0.1", () => resolve(server));
        }),
    );
    try {
      const failed = await runToEnd(["-c", configPath, "-d"]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(
        /osad2-server \(pid \d+\) exited with code 1 while starting: its log file says why/,
      );
    } finally {
      blocker.close();
    }
  });

  it("-c FILE without -d runs in the foreground (run), and --help still shows the commands", async () => {
    const child = spawn(process.execPath, [CLI, "-c", configPath], { stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    await waitFor("healthy", healthy);
    expect(Number((await fs.readFile(pidfile, "utf8")).trim())).toBe(child.pid);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const help = await runToEnd(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:[\s\S]*run[\s\S]*init[\s\S]*status/);
  });
});
