// detach() itself is exercised through the real binaries (server and client test/cli-seed.test.ts):
// it re-runs process.argv[1], which under vitest is vitest.
import { describe, expect, it } from "vitest";
import { withDefaultCommand, withoutDetachFlag } from "../src/index.js";

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
