import { describe, expect, it } from "vitest";
import { parseCliArgs, withoutDetach } from "../src/cli/args.js";
import { DEFAULT_CONFIG_PATH } from "../src/config/schema.js";

const parse = (argv: string[]) => parseCliArgs(argv, "0.1.0");

describe("osad2-server command line", () => {
  it.each<[string[], object]>([
    [
      ["run"],
      { command: "run", configPath: DEFAULT_CONFIG_PATH, configRequired: false, flags: {} },
    ],
    [["run", "--config", "/tmp/s.cfg"], { configPath: "/tmp/s.cfg", configRequired: true }],
    [["run", "-c", "/tmp/s.cfg"], { configPath: "/tmp/s.cfg", configRequired: true }],
    // The seed's init scripts: options without a command are run's.
    [
      ["-c", "/etc/rhn/osad-server.cfg", "-d"],
      {
        command: "run",
        configPath: "/etc/rhn/osad-server.cfg",
        configRequired: true,
        detach: true,
      },
    ],
    [["--config=/tmp/s.cfg"], { command: "run", configPath: "/tmp/s.cfg", detach: false }],
    [["run", "--detach"], { command: "run", detach: true }],
    [["doctor", "web01"], { command: "doctor", system: "web01", json: false }],
    [
      ["doctor", "1000010000", "--json", "-c", "/tmp/s.cfg"],
      { command: "doctor", system: "1000010000", json: true, configPath: "/tmp/s.cfg" },
    ],
    [["systems"], { command: "systems", json: false }],
    [["systems", "--json"], { command: "systems", json: true }],
    [["run", "--db", "sqlite:/x.db"], { flags: { database: "sqlite:/x.db" } }],
    [["run", "--database", "sqlite:/y.db"], { flags: { database: "sqlite:/y.db" } }],
    [
      ["run", "--publisher-port", "6000", "--listener-port=6001", "--ping-interval", "0.5"],
      { flags: { publisher_port: "6000", listener_port: "6001", ping_interval: "0.5" } },
    ],
    [["run", "--debug"], { flags: { debug: "1" } }],
    [["run", "--debug", "0"], { flags: { debug: "0" } }],
    [
      ["run", "--renotify-picked-up", "--notify-threshold", "0"],
      { flags: { renotify_picked_up: "1", notify_threshold: "0" } },
    ],
    [
      ["run", "--metrics-bind", "0.0.0.0", "--xmlrpc-bind", "10.0.0.1"],
      { flags: { metrics_bind: "0.0.0.0", xmlrpc_bind: "10.0.0.1" } },
    ],
    [["init"], { command: "init", notifyTrigger: true }],
    [["init", "--no-notify-trigger"], { command: "init", notifyTrigger: false }],
    // The opt-in flag of earlier versions still works.
    [["init", "--notify-trigger"], { command: "init", notifyTrigger: true }],
    [["status", "--config", "/etc/x.cfg"], { command: "status", configPath: "/etc/x.cfg" }],
  ])("%j", (argv, expected) => {
    const result = parse(argv);
    expect(result.kind).toBe("run");
    if (result.kind === "run") expect(result.command).toMatchObject(expected);
  });

  it("keeps --help and --version the program's, and -d only run's", () => {
    expect(parse(["--version"])).toMatchObject({ kind: "exit", code: 0, output: "0.1.0\n" });
    expect(parse(["--help"])).toMatchObject({ kind: "exit", code: 0 });
    expect(parse(["init", "-d"])).toMatchObject({ kind: "exit", code: 2 });
    expect(withoutDetach(["-c", "/f", "-d"])).toEqual(["run", "-c", "/f"]);
    expect(withoutDetach(["run", "--detach", "--debug"])).toEqual(["run", "--debug"]);
  });

  it("has a flag for every config key", () => {
    const result = parse(["run", "--help"]);
    expect(result).toMatchObject({ kind: "exit", code: 0 });
    if (result.kind !== "exit") return;
    for (const flag of [
      "--bind",
      "--publisher-port",
      "--listener-port",
      "--ping-interval",
      "--action-poll-interval",
      "--notify-threshold",
      "--certificates",
      "--log-file",
      "--debug",
      "--pidfile",
      "--database",
      "--database-schema",
      "--xmlrpc-port",
      "--xmlrpc-bind",
      "--public-host",
      "--tls-cert",
      "--tls-key",
      "--renotify-interval",
      "--renotify-picked-up",
      "--missed-pings",
      "--metrics-port",
      "--metrics-bind",
      "--config",
      "--db",
    ]) {
      expect(result.output).toContain(flag);
    }
  });

  it.each<[string[], number, RegExp]>([
    [[], 2, /Usage: osad2-server/],
    [["frobnicate"], 2, /unknown command 'frobnicate'/],
    [["run", "--no-such-flag"], 2, /unknown option '--no-such-flag'/],
    [["run", "--publisher-port"], 2, /argument missing/],
    [["--version"], 0, /0\.1\.0/],
  ])("%j exits %i", (argv, code, output) => {
    const result = parse(argv);
    expect(result).toMatchObject({ kind: "exit", code });
    if (result.kind === "exit") expect(result.output).toMatch(output);
  });
});
