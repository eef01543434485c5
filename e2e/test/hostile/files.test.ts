// The files osad2 writes, under `umask 000`, through the real CLIs. The landed build left the
// SQLite database 0644 in a 0755 directory (every secret and shared key readable), the RPM
// createclient writes 0644 (rpm2cpio hands out the client's secret key), the log 0666 in
// 0777 directories, the pidfile written through a symlink, a stale pidfile naming any live
// process (even pid 1) blocking the start, and accepted a world-writable public_keys/.
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TempDirs, waitFor } from "@osad2/test-helpers";
import { cliPath, Deployment, run } from "@osad2/testkit";

const dirs = new TempDirs("osad2-e2e-files-");
let d: Deployment | undefined;
afterEach(async () => {
  await d?.dispose();
  d = undefined;
  await dirs.removeAll();
});

/** A CLI started through `sh` with umask 000 (what a careless init script or shell gives). */
async function umask000(dir: string, pkg: "server" | "client" | "packager"): Promise<string> {
  const script = path.join(dir, `osad2-${pkg}-umask000`);
  await fs.writeFile(
    script,
    `#!/bin/sh\numask 000\nexec "${process.execPath}" "${cliPath(pkg)}" "$@"\n`,
    { mode: 0o755 },
  );
  return script;
}

async function modeOf(file: string): Promise<string> {
  return ((await fs.stat(file)).mode & 0o7777).toString(8);
}

describe("files under umask 000", () => {
  it("server: database (-wal, -shm) 0600 in 0700, log 0640 and pidfile 0640 in 0750 directories", async () => {
    const bins = await dirs.make();
    const dep = (d = await Deployment.create({
      database: "sqlite",
      bins: { server: await umask000(bins, "server") },
    }));
    const root = path.join(dep.dir, "fresh");
    const db = path.join(root, "lib", "osad2", "osad2.db");
    const log = path.join(root, "log", "osad2", "osad2-server.log");
    const pid = path.join(root, "run", "osad2", "osad2-server.pid");
    await dep.writeServerConfig({ database: `sqlite:${db}`, log_file: log, pidfile: pid });
    await dep.init();
    await dep.startServer();
    expect(await modeOf(path.dirname(db))).toBe("700");
    expect(await modeOf(path.join(root, "lib"))).toBe("700");
    for (const file of [db, `${db}-wal`, `${db}-shm`]) expect(await modeOf(file)).toBe("600");
    expect(await modeOf(path.dirname(log))).toBe("750");
    expect(await modeOf(log)).toBe("640");
    expect(await modeOf(path.dirname(pid))).toBe("750");
    expect(await modeOf(pid)).toBe("640");
  });

  it("client: state file 0640 in a 0750 directory; refuses a world-writable certs/", async () => {
    const bins = await dirs.make();
    const dep = (d = await Deployment.create({
      database: "sqlite",
      bins: { client: await umask000(bins, "client") },
    }));
    await dep.init();
    const state = path.join(dep.dir, "fresh", "lib", "osad2", "state.json");
    const system = await dep.addSystem("web01", { state_file: state });
    await dep.startServer();
    const client = dep.startClient("web01");
    await dep.waitOnline("web01");
    await waitFor("the state file", async () => (await fs.stat(state).catch(() => null)) !== null);
    expect(await modeOf(state)).toBe("640");
    expect(await modeOf(path.dirname(state))).toBe("750");
    await client.kill();

    const certs = path.join(system.dir, "certs");
    await fs.chmod(certs, 0o777);
    const refused = await run(process.execPath, [
      cliPath("client"),
      "run",
      "--config",
      system.configPath,
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain(`chmod go-w ${certs}`);
  });

  it("packager: the RPM createclient writes is 0600", async () => {
    const bins = await dirs.make();
    const work = await dirs.make();
    const certs = path.join(work, "certs");
    const out = path.join(work, "rpms");
    const packager = await umask000(bins, "packager");
    const server = await run(packager, ["createserver", "--certificates", certs, "--no-config"]);
    expect(server.code, server.stderr).toBe(0);
    const made = await run(packager, [
      "createclient",
      "--name",
      "web01",
      "--certificates",
      certs,
      "--server-host",
      "osad2.example.com",
      "--out",
      out,
      "--keys-only",
    ]);
    expect(made.code, made.stderr).toBe(0);
    const rpms = (await fs.readdir(out)).filter((name) => name.endsWith(".rpm"));
    expect(rpms).toHaveLength(1);
    expect(await modeOf(path.join(out, rpms[0] ?? ""))).toBe("600");
  });
});

describe("server start-up checks", () => {
  it.each(["public_keys", "private_keys", "."])(
    "refuses a world-writable %s with the chmod go-w that fixes it",
    async (sub) => {
      const dep = (d = await Deployment.create({ database: "sqlite" }));
      await dep.init();
      const dir = path.resolve(dep.certificates, sub);
      await fs.chmod(dir, 0o777);
      const result = await run(process.execPath, [
        cliPath("server"),
        "run",
        "--config",
        dep.serverConfigPath,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain(`chmod go-w ${dir}`);
    },
  );

  it("ignores a stale pidfile naming a live process that is not osad2 (pid 1), refuses a symlink", async () => {
    const dep = (d = await Deployment.create({ database: "sqlite" }));
    const pid = path.join(dep.dir, "run", "osad2-server.pid");
    await dep.writeServerConfig({ pidfile: pid });
    await dep.init();
    await fs.mkdir(path.dirname(pid), { recursive: true });
    await fs.writeFile(pid, "1\n");
    const server = await dep.startServer();
    expect((await fs.readFile(pid, "utf8")).trim()).toBe(String(server.pid));
    await dep.stopServer();

    const target = path.join(dep.dir, "elsewhere");
    await fs.writeFile(target, "keep\n");
    await fs.rm(pid, { force: true });
    await fs.symlink(target, pid);
    const result = await run(process.execPath, [
      cliPath("server"),
      "run",
      "--config",
      dep.serverConfigPath,
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/symbolic link/);
    expect(await fs.readFile(target, "utf8")).toBe("keep\n");
  });
});
