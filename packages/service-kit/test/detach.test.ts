// detach() itself is exercised through the real binaries (server and client test/cli-seed.test.ts):
// it re-runs process.argv[1], which under vitest is vitest.
import { describe, expect, it } from "vitest";
import { caught } from "@osad2/test-helpers";
import {
  assertDetachable,
  ConfigError,
  withDefaultCommand,
  withoutDetachFlag,
} from "../src/index.js";

describe("the seed's command line: PROGRAM -c FILE -d", () => {
  it.each([
    [
      ["-c", "/etc/f.cfg", "-d"],
      ["run", "-c", "/etc/f.cfg", "-d"],
    ],
    [["--config=/f"], ["run", "--config=/f"]],
    [["-d"], ["run", "-d"]],
    [
      ["run", "-c", "/f"],
      ["run", "-c", "/f"],
    ],
    [["status"], ["status"]],
    [["--help"], ["--help"]],
    [["-h"], ["-h"]],
    [["--version"], ["--version"]],
    [["-V"], ["-V"]],
    [[], []],
  ])("%j → %j", (argv, expected) => {
    expect(withDefaultCommand(argv, "run")).toEqual(expected);
  });

  it("gives the background process the same line without -d or --detach", () => {
    expect(withoutDetachFlag(["-c", "/f", "-d"], "run")).toEqual(["run", "-c", "/f"]);
    expect(withoutDetachFlag(["run", "--detach", "--debug", "1"], "run")).toEqual([
      "run",
      "--debug",
      "1",
    ]);
  });
});

describe("assertDetachable", () => {
  const base = { program: "osad2-server", configPath: "/etc/x.cfg" };
  it("names the missing pidfile first, then the log file key, with the systemd alternative", async () => {
    const noPid = await caught(() =>
      assertDetachable({ ...base, pidfile: "", logFile: { key: "log_file", value: "" } }),
    );
    expect(noPid).toBeInstanceOf(ConfigError);
    expect((noPid as ConfigError).key).toBe("pidfile");
    expect((noPid as Error).message).toContain("systemctl start osad2-server");
    const noLog = await caught(() =>
      assertDetachable({ ...base, pidfile: "/run/x.pid", logFile: { key: "log_file", value: "" } }),
    );
    expect((noLog as ConfigError).key).toBe("log_file");
    expect((noLog as Error).message).toMatch(/^-d \(detach\) needs log_file set in \/etc\/x\.cfg/);
    expect(() =>
      assertDetachable({
        ...base,
        pidfile: "/run/x.pid",
        logFile: { key: "log_file", value: "/l" },
      }),
    ).not.toThrow();
  });
});
