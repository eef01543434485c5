// Operating a running osad2-client as an admin does: logrotate + SIGHUP, a reload with and
// without registration changes, and `status` in every state. Real processes of the built CLI
// against the test world's seed-style server and counting register_osad endpoint.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "@osad2/test-helpers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, cli, finished, killClis, type Running } from "./cli-process.js";
import { cleanupTempDirs, readRunLog } from "./helpers.js";
import { disposeWorlds, makeWorld, type World } from "./world.js";

beforeAll(assertBuilt);

afterEach(async () => {
  await killClis();
  await disposeWorlds();
  await cleanupTempDirs();
});

async function fileText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return "";
  }
}

/** `osad2-client run` with a log file; resolves once it is connected to the seed server. */
async function runWithLog(
  world: World,
  ...flags: string[]
): Promise<{ service: Running; log: string }> {
  const log = join(world.dir, "log", "osad2-client.log");
  const service = cli(["run", "--config", world.configPath, "--logfile", log, ...flags]);
  await waitFor("connected, in the log file", async () =>
    (await fileText(log)).includes("connected to the server"),
  );
  await world.seed.pingUntilAnswered();
  return { service, log };
}

/** Hellos (and hello-requests) the seed server has received: some on every (re)connection. */
function hellos(world: World): number {
  return world.seed.received.filter((r) => r.text.startsWith("hello")).length;
}

async function status(configPath: string, ...flags: string[]) {
  const r = await finished(cli(["status", "--config", configPath, ...flags]));
  return { ...r, json: r.stdout === "" ? undefined : (JSON.parse(r.stdout) as { state: string }) };
}

describe("osad2-client run: SIGHUP", () => {
  it("after logrotate moved the log file, SIGHUP makes new lines go to a new file at the path", async () => {
    const world = await makeWorld();
    const { service, log } = await runWithLog(world);
    const rotated = `${log}.1`;
    await rename(log, rotated);
    service.child.kill("SIGHUP");
    await waitFor(
      "the reload logged in a new file at the path",
      async () => (await fileText(log)).includes("SIGHUP: reloading"),
      { timeoutMs: 10_000 },
    );
    // Something logged after the reload: a message for this client it does not understand.
    await waitFor(
      "a line logged after the reload, in the new file",
      async () => {
        await world.seed.publish(`system:${world.names.at(-1)} reboot`);
        return (await fileText(log)).includes("does not understand");
      },
      { timeoutMs: 10_000 },
    );
    const old = await fileText(rotated);
    expect(old).toContain("connected to the server");
    expect(old).not.toContain("SIGHUP: reloading");
    // Everything after the rename went to the new file: the old one ends before the reload.
    expect(old).not.toContain("does not understand");
    expect(service.lines).toEqual([]); // nothing went to stdout instead
  });

  it("with the registration settings unchanged: no register_osad, same name, same connection, no rhn_check", async () => {
    const world = await makeWorld();
    const { service, log } = await runWithLog(world);
    expect(world.xmlrpc.calls).toHaveLength(1);
    const before = hellos(world);
    // A setting that is not about registration: applied without registering again.
    await writeFile(
      world.configPath,
      (await readFile(world.configPath, "utf8")).replace("[osad]\n", "[osad]\njitter = 0.5\n"),
    );
    service.child.kill("SIGHUP");
    await waitFor("reload logged", async () =>
      /"msg":"configuration (and keys )?reloaded/.test(await fileText(log)),
    );
    // Pings still answered under the first name, over the same connection.
    await world.seed.pingUntilAnswered();
    await world.seed.pingUntilAnswered();
    expect(world.xmlrpc.calls).toHaveLength(1);
    expect(world.names).toEqual(["client0001"]);
    expect(hellos(world)).toBe(before);
    expect(await readRunLog(world.runlog)).toEqual([]);
    const state = JSON.parse(await readFile(join(world.dir, "state", "state.json"), "utf8")) as {
      registration: { clientName: string };
    };
    expect(state.registration.clientName).toBe("client0001");
  });

  it("with a registration setting changed (server_url): registers again under a new name", async () => {
    const world = await makeWorld();
    const { service, log } = await runWithLog(world);
    // The same endpoint under another spelling: a different server_url, the same server.
    const other = world.xmlrpc.url.replace("127.0.0.1", "localhost");
    await writeFile(
      world.configPath,
      (await readFile(world.configPath, "utf8")).replace(world.xmlrpc.url, other),
    );
    service.child.kill("SIGHUP");
    await waitFor("registered again", () => world.xmlrpc.calls.length === 2);
    await waitFor("the new name in the log", async () =>
      (await fileText(log)).includes('registered as \\"client0002\\"'),
    );
    expect(await fileText(log)).toMatch(/registration settings changed[^\n]*server_url/);
    await world.seed.waitFor((r) => r.routingId === "client0002", 15_000, "the new name connected");
  });
});

describe("osad2-client status: exit codes", () => {
  it("0 connected, 1 disconnected, 3 not running (stopped, no state file)", async () => {
    const world = await makeWorld();
    const { service } = await runWithLog(world);
    const connected = await status(world.configPath);
    expect(connected.code).toBe(0);
    expect(connected.json).toMatchObject({ state: "connected", alive: true });

    world.seed.closeSockets(); // the server goes away
    await waitFor("disconnected in the state file", async () =>
      (await fileText(join(world.dir, "state", "state.json"))).includes('"disconnected"'),
    );
    const disconnected = await status(world.configPath);
    expect(disconnected.code).toBe(1);
    expect(disconnected.json).toMatchObject({ state: "disconnected", alive: true });

    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    const stopped = await status(world.configPath);
    expect(stopped.code).toBe(3);
    expect(stopped.json).toMatchObject({ state: "stopped", alive: false });

    const none = await status(world.configPath, "--state-file", join(world.dir, "none.json"));
    expect(none.code).toBe(3);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/^osad2-client: not running: no state file at .*none\.json/);
  });

  it("1 while the server refuses the client's key (auth-failure)", async () => {
    const world = await makeWorld({ clientNotAllowed: true });
    cli(["run", "--config", world.configPath]);
    await waitFor("auth-failure in the state file", async () =>
      (await fileText(join(world.dir, "state", "state.json"))).includes('"auth-failure"'),
    );
    const refused = await status(world.configPath);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ state: "auth-failure", alive: true });
  });

  it("needs only its state file: no up2date, no server_url, no keys", async () => {
    const world = await makeWorld();
    await runWithLog(world);
    // A config that could not run (no server_url, and up2date is missing) still has status.
    const minimal = join(world.dir, "status-only.cfg");
    await writeFile(
      minimal,
      `[osad]\nstate_file = ${join(world.dir, "state", "state.json")}\nup2date = ${join(world.dir, "absent", "up2date")}\ncertificates = ${join(world.dir, "absent")}\n`,
    );
    const r = await status(minimal);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ state: "connected", alive: true });
    // Still as strict about the file itself as every command.
    await writeFile(minimal, `[osad]\nstate_flie = x\n`);
    const typo = await status(minimal);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/status-only\.cfg line 2: unknown key "state_flie"/);
  });
});
