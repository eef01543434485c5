// The README's first command works as written and leaves nothing running.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { run } from "@osad2/testkit";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("tools/demo", () => {
  it("shows one action and a mass action arrive, then stops everything", async () => {
    const demo = await run(path.join(root, "tools", "demo"), ["--once"], {
      cwd: root,
      timeoutMs: 170_000,
    });
    expect(demo.code, demo.stdout + demo.stderr).toBe(0);
    const out = demo.stdout;
    for (const label of ["web01", "db01", "mail01"]) {
      expect(out).toMatch(
        new RegExp(`osad2-client ${label} registered as "[0-9a-f]{16}" and is online`),
      );
    }
    expect(out.match(/rhn_check ran on /g)).toHaveLength(4);
    // Wire v3: no osad2 client's checkin goes out on the PUB for an eavesdropper to see.
    expect(out).toContain("an observer subscribed to everything on the PUB saw 0 checkins");
    expect(out).toContain("nothing left running");
    const dir = /working directory (\S+)/.exec(out)?.[1];
    expect(dir).toBeTruthy();
    const ps = await run("ps", ["-eo", "args"]);
    expect(ps.stdout.split("\n").filter((l) => l.includes(dir!))).toEqual([]);
  }, 180_000);
});
