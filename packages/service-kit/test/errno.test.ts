import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { describeError, describeSystemError, errnoCode, splitCommandLine } from "../src/index.js";

describe("errno helpers", () => {
  it("reads the code of system errors only", async () => {
    const error = await readFile("/nonexistent/osad2").catch((e: unknown) => e);
    expect(errnoCode(error)).toBe("ENOENT");
    expect(errnoCode(new Error("x"))).toBeUndefined();
    expect(errnoCode({ code: 5 })).toBeUndefined();
    expect(errnoCode("ENOENT")).toBeUndefined();
    expect(describeSystemError(error)).toBe("no such file or directory (ENOENT)");
    expect(describeError(error)).toMatch(/^ENOENT: no such file or directory, open/);
    expect(describeError(42)).toBe("42");
    expect(describeSystemError("plain")).toBe("plain");
  });
});

describe("splitCommandLine", () => {
  it.each([
    ["/usr/sbin/rhn_check", ["/usr/sbin/rhn_check"]],
    ["  a   b\tc ", ["a", "b", "c"]],
    [`"/opt/with space/x" '--a b' c\\ d ""`, ["/opt/with space/x", "--a b", "c d", ""]],
    [`a"b"'c'`, ["abc"]],
    [`"say \\"hi\\""`, ['say "hi"']],
    ["$HOME;rm", ["$HOME;rm"]],
  ])("%s", (text, argv) => {
    expect(splitCommandLine(text)).toEqual(argv);
  });
  it("refuses unbalanced quotes", () => {
    expect(splitCommandLine(`"a`)).toBeUndefined();
    expect(splitCommandLine(`'a`)).toBeUndefined();
  });
});
