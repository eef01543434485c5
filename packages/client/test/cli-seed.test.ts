// The seed's init scripts call `osad2-client -c FILE -d`: the built binary, as they would.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import { parseCliArgs, withoutDetach } from "../src/cli-args.js";
import { cleanupTempDirs, processGone, readRunLog } from "./helpers.js";
import { disposeWorlds, makeWorld } from "./world.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

async function runToEnd(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { code, stderr };
}

const daemons: number[] = [];
afterEach(async () => {
  for (const pid of daemons.splice(0)) {
    if (!(await processGone(pid))) process.kill(pid, "SIGKILL");
    await waitFor("daemon gone", () => processGone(pid));
  }
  await disposeWorlds();
  await cleanupTempDirs();
});

describe("osad2-client as the seed's init scripts call it: -c FILE [-d]", () => {
  it("parses -c FILE -d (no command) as run in the background", () => {
    expect(parseCliArgs(["-c", "/etc/sysconfig/rhn/osad-client.cfg", "-d"])).toMatchObject({
      kind: "run",
      command: { command: "run", configPath: "/etc/sysconfig/rhn/osad-client.cfg", detach: true },
    });
    expect(parseCliArgs(["-c", "/x.cfg"])).toMatchObject({
      command: { command: "run", configPath: "/x.cfg", detach: false },
    });
    expect(parseCliArgs(["--version"])).toMatchObject({ kind: "exit", code: 0 });
    expect(parseCliArgs(["status", "-d"])).toMatchObject({ kind: "exit", code: 2 });
    expect(withoutDetach(["-c", "/x.cfg", "-d"])).toEqual(["run", "-c", "/x.cfg"]);
  });

  it("-c FILE -d: exits 0 with the client up in the background, which serves checkins and stops on SIGTERM", async () => {
    const pidfile = "run/osad2-client.pid";
    const world = await makeWorld({ osad: { pidfile: "PIDFILE", logfile: "LOGFILE" } });
    const config = await readFile(world.configPath, "utf8");
    const pidPath = join(world.dir, pidfile);
    const logPath = join(world.dir, "log", "osad2-client.log");
    await writeFile(
      world.configPath,
      config.replace("PIDFILE", pidPath).replace("LOGFILE", logPath),
    );
    const started = await runToEnd(["-c", world.configPath, "-d"]);
    expect(started).toEqual({ code: 0, stderr: "" });
    const pid = Number((await readFile(pidPath, "utf8")).trim());
    daemons.push(pid);
    expect(await processGone(pid)).toBe(false);
    // Its own session, no controlling terminal.
    const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
    expect(Number(stat[3])).toBe(pid);
    expect(stat[4]).toBe("0");

    await world.seed.pingUntilAnswered();
    await world.seed.publish(`system:${world.names[0]} checkin`);
    await waitFor("rhn_check ran", async () => (await readRunLog(world.runlog)).length >= 2);
    expect((await readFile(logPath, "utf8")).includes('"msg":"rhn_check finished"')).toBe(true);

    process.kill(pid, "SIGTERM");
    await waitFor("stopped", () => processGone(pid));
    await expect(readFile(pidPath)).rejects.toThrow();
  });

  it("-d without logfile or pidfile: exit 2, one line naming the key and the systemd way", async () => {
    const world = await makeWorld();
    const result = await runToEnd(["-c", world.configPath, "-d"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      `osad2-client: -d (detach) needs pidfile set in ${world.configPath}: an init script finds the daemon by its pidfile, and a detached osad2-client has no terminal to log to (under systemd, run it without -d: systemctl start osad2-client)`,
    ]);
  });
});
