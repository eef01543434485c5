// The control socket (mode 0600, stale file removed, removed at stop, a live one left alone)
// and the batched key-usage.json writes of the diagnostics service.
import { lstat, stat, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { keyUsagePath, readKeyUsage } from "@osad2/keys";
import { silentLogger } from "@osad2/service-kit";
import { TempDirs, caught } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import {
  controlSocketPath,
  fetchLiveState,
  startControlSocket,
} from "../src/diagnostics/control-socket.js";
import { ControlSocketError } from "../src/diagnostics/errors.js";
import { Diagnostics, type ServerView } from "../src/diagnostics/service.js";

const dirs = new TempDirs("osad2-control-");
afterEach(() => dirs.removeAll());

const view: ServerView = {
  settings: () => ({
    pingIntervalMs: 1000,
    missedPings: 3,
    notifyThreshold: 0,
    renotifyPickedUp: false,
    publisherPort: 1,
    listenerPort: 2,
  }),
  managedNames: () => ["c1"],
  onlineNames: () => ["c1"],
  askedCount: () => 0,
};

function start(stateDir: string): Promise<Diagnostics> {
  return Diagnostics.start({
    stateDir,
    keys: { nameOf: () => "web01" },
    systems: { systemOf: async () => ({ serverId: 7, profileName: "web01" }) },
    server: view,
    logger: silentLogger(),
  });
}

describe("control socket", () => {
  it("serves the live state on a 0600 socket and removes it at stop; null when nothing listens", async () => {
    const stateDir = join(await dirs.make(), "state");
    expect(await fetchLiveState(stateDir)).toBeNull();
    const diagnostics = await start(stateDir);
    const path = controlSocketPath(stateDir);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const state = await fetchLiveState(stateDir);
    expect(state).toMatchObject({ version: 1, pid: process.pid, managed: ["c1"], online: ["c1"] });
    await diagnostics.stop();
    await diagnostics.stop();
    expect(await lstat(path).catch(() => undefined)).toBeUndefined();
    expect(await fetchLiveState(stateDir)).toBeNull();
  });

  it("removes a stale socket file, refuses when another server answers or a file is in the way", async () => {
    const stateDir = await dirs.make();
    const path = controlSocketPath(stateDir);
    const failing = {
      liveState: (): never => {
        throw new Error("no state");
      },
    };
    const open = () => startControlSocket({ stateDir, source: failing, logger: silentLogger() });
    // A crashed server's socket: killed before it could remove the file.
    spawnSync(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    expect((await lstat(path)).isSocket()).toBe(true);
    const first = await open();
    const second = await caught(open);
    expect(second).toBeInstanceOf(ControlSocketError);
    expect((second as Error).message).toContain("another osad2-server");
    await expect(fetchLiveState(stateDir)).rejects.toThrow(/HTTP 500/);
    await first.close();
    await writeFile(path, "not a socket");
    expect(((await caught(open)) as Error).message).toContain("not a socket");
  });

  it("writes key-usage.json when usage changed, at flush and at stop", async () => {
    const stateDir = await dirs.make();
    const diagnostics = await start(stateDir);
    diagnostics.book.admitted({
      socket: "listener",
      address: "10.0.0.5",
      publicKey: "A".repeat(40),
    });
    await diagnostics.flush();
    const usage = await readKeyUsage(keyUsagePath(stateDir));
    expect(usage.get("web01")).toMatchObject({ address: "10.0.0.5", serverId: null });
    expect((await stat(keyUsagePath(stateDir))).mode & 0o777).toBe(0o640);
    diagnostics.book.admitted({
      socket: "listener",
      address: "10.0.0.6",
      publicKey: "A".repeat(40),
    });
    await diagnostics.stop();
    expect((await readKeyUsage(keyUsagePath(stateDir))).get("web01")?.address).toBe("10.0.0.6");
  });
});
