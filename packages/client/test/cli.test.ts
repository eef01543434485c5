import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli-args.js";
import { DEFAULT_CONFIG_PATH } from "../src/index.js";
import { assertBuilt, cli, finished, killClis } from "./cli-process.js";
import { cleanupTempDirs, readRunLog, tempDir } from "./helpers.js";
import { disposeWorlds, makeWorld } from "./world.js";
import { startXmlRpcServer } from "./xmlrpc-server.js";

beforeAll(assertBuilt);

afterEach(async () => {
  await killClis();
  await disposeWorlds();
  await cleanupTempDirs();
});

describe("parseCliArgs", () => {
  it.each([
    [["run"], { command: "run", configPath: DEFAULT_CONFIG_PATH, overrides: {}, detach: false }],
    [
      [
        "register",
        "--config",
        "/etc/x.cfg",
        "--jitter",
        "5",
        "--run-at-start",
        "0",
        "--server-url",
        "http://h/RPC2",
      ],
      {
        command: "register",
        configPath: "/etc/x.cfg",
        overrides: { jitter: "5", run_at_start: "0", server_url: "http://h/RPC2" },
        detach: false,
      },
    ],
    [
      ["status", "--state-file", "/tmp/s.json", "--rhn-check-command", "/bin/true -x"],
      {
        command: "status",
        configPath: DEFAULT_CONFIG_PATH,
        overrides: { state_file: "/tmp/s.json", rhn_check_command: "/bin/true -x" },
        detach: false,
      },
    ],
    [
      ["run", "--run-at-start", "--debug-level", "2"],
      {
        command: "run",
        configPath: DEFAULT_CONFIG_PATH,
        overrides: { run_at_start: "1", debug_level: "2" },
        detach: false,
      },
    ],
  ])("%j", (argv, command) => {
    expect(parseCliArgs(argv)).toEqual({ kind: "run", command });
  });

  it.each([
    [["run", "--no-such-flag"], 2],
    [["launch"], 2],
    [[], 2],
    [["run", "--jitter"], 2],
    [["--help"], 0],
    [["--version"], 0],
  ])("%j exits with %i", (argv, code) => {
    expect(parseCliArgs(argv)).toMatchObject({ kind: "exit", code });
  });

  it("prints nothing itself: usage errors and no command come back with the text to show", () => {
    const none = parseCliArgs([]);
    expect(none.kind === "exit" && none.output).toMatch(/Usage: osad2-client/);
    const bad = parseCliArgs(["run", "--no-such-flag"]);
    expect(bad.kind === "exit" && bad.output).toMatch(/unknown option '--no-such-flag'/);
  });

  it("offers every config key as a flag in --help", () => {
    const parsed = parseCliArgs(["run", "--help"]);
    const help = parsed.kind === "exit" ? parsed.output : "";
    for (const flag of [
      "--systemid",
      "--rhn-check-command",
      "--client-secret-key",
      "--registry-interval",
      "--rhn-check-timeout",
      "--state-file",
      "--config",
    ]) {
      expect(help).toContain(flag);
    }
  });
});

describe("osad2-client (built CLI)", () => {
  it("register prints the reply as JSON", async () => {
    const world = await makeWorld();
    const r = await finished(cli(["register", "--config", world.configPath]));
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(reply["client-name"]).toBe(world.names[0]);
    expect(reply["publisher-endpoint"]).toBe(world.seed.publisherEndpoint);
    expect(typeof reply["client-timestamp"]).toBe("number");
  });

  it("fails with one line and a code: fault → 1, missing config → 2, bad flag value → 2", async () => {
    const dir = await tempDir();
    const faulty = await startXmlRpcServer(() => ({
      fault: { faultCode: -9, faultString: "Invalid System Credentials" },
    }));
    const systemid = join(dir, "systemid");
    await writeFile(systemid, "<params/>");
    const cfg = join(dir, "c.cfg");
    await writeFile(cfg, `[osad]\nsystemid = ${systemid}\nserver_url = ${faulty.url}\n`);
    const fault = await finished(cli(["register", "--config", cfg]));
    expect(fault.code).toBe(1);
    expect(fault.stderr.split("\n")).toEqual([
      `osad2-client: registration at ${faulty.url} refused with fault -9: Invalid System Credentials — check that this system is registered to that server (rhnreg_ks) and its systemid is current`,
    ]);
    const missing = await finished(cli(["run", "--config", join(dir, "nope.cfg")]));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `osad2-client: cannot read config file ${join(dir, "nope.cfg")} (ENOENT): create it (the osad2 client package installs one) or pass --config FILE`,
    );
    const badFlag = await finished(cli(["status", "--config", cfg, "--listener-port", "x"]));
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/^osad2-client: --listener-port "x" is not a TCP port/);
    const noState = await finished(
      cli(["status", "--config", cfg, "--state-file", join(dir, "none.json")]),
    );
    expect(noState.code).toBe(3); // LSB: not running
    expect(noState.stderr).toContain("not running: no state file at");
  });

  it("run: serves checkins, status reports it, SIGHUP reloads, SIGTERM lets rhn_check finish", async () => {
    const world = await makeWorld();
    const pidfile = join(world.dir, "run", "osad2-client.pid");
    const service = cli(
      ["run", "--config", world.configPath, "--pidfile", pidfile, "--debug-level", "1"],
      { SLEEP: "0.6" },
    );
    await service.waitForLine(/connected to the server/);
    expect((await readFile(pidfile, "utf8")).trim()).toBe(String(service.child.pid));

    // a second instance refuses to start
    const second = await finished(cli(["run", "--config", world.configPath, "--pidfile", pidfile]));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`already running (pid ${service.child.pid}`);

    await world.seed.pingUntilAnswered();
    await world.seed.publish(`system:${world.names[0]} checkin`);
    await service.waitForLine(/"msg":"rhn_check finished"/);
    const [start] = await readRunLog(world.runlog);
    expect(start?.args).toBe("--from-osad2 -vvv");

    const status = await finished(cli(["status", "--config", world.configPath]));
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      state: "connected",
      alive: true,
      pid: service.child.pid,
      registration: { clientName: world.names[0] },
      lastRun: { trigger: "checkin", exitCode: 0 },
    });

    service.child.kill("SIGHUP");
    await service.waitForLine(/configuration reloaded; registration unchanged/);
    expect(world.names).toHaveLength(1); // no register_osad, so no new name

    // a checkin starts a 0.6 s run; SIGTERM arrives in the middle of it
    await world.seed.pingUntilAnswered();
    await world.seed.publish(`system:${world.names[0]} checkin`);
    await service.waitForLine(/"msg":"running rhn_check"/, 10_000, 2);
    const stopAsked = Date.now();
    service.child.kill("SIGTERM");
    const code = await service.exited;
    expect(code).toBe(0);
    const log = await readRunLog(world.runlog);
    expect(log.map((l) => l.kind)).toEqual(["start", "end", "start", "end"]);
    expect(log[3]!.atMs).toBeGreaterThanOrEqual(stopAsked - 50);
    expect(existsSync(pidfile)).toBe(false);
    const after = JSON.parse(await readFile(join(world.dir, "state", "state.json"), "utf8")) as {
      state: string;
    };
    expect(after.state).toBe("stopped");
  });
});
