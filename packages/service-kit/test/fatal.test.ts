import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TempDirs } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";

// A real process: the handlers are process-wide, and what matters is what it leaves behind.
const built = pathToFileURL(fileURLToPath(new URL("../dist/index.js", import.meta.url))).href;
const dirs = new TempDirs("osad2-kit-fatal-");
afterEach(() => dirs.removeAll());

function runChild(file: string, failure: string) {
  const script = `
    import { createLogger, exitOnFatalErrors } from ${JSON.stringify(built)};
    const log = createLogger({ name: "osad2-test", file: ${JSON.stringify(file)} });
    exitOnFatalErrors(log, "osad2-test");
    log.logger.info("started");
    setTimeout(() => { ${failure} }, 10);
    setTimeout(() => log.logger.info("still running"), 5000);
  `;
  return spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 15_000,
  });
}

describe("exitOnFatalErrors", () => {
  it.each([
    ["an uncaught exception", 'throw new Error("boom in a timer")', "uncaught exception"],
    [
      "an unhandled rejection",
      'Promise.reject(new Error("boom in a promise"))',
      "unhandled promise rejection",
    ],
  ])("writes %s to the JSON log (fatal, with stack) and exits 1", async (_, failure, origin) => {
    const file = join(await dirs.make(), "fatal.log");
    const result = runChild(file, failure);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`osad2-test: fatal ${origin}: boom`));
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            level: number;
            msg: string;
            origin?: string;
            err?: { stack?: string };
          },
      );
    expect(lines.map((l) => l.msg)).not.toContain("still running");
    const fatal = lines.at(-1);
    expect(fatal).toMatchObject({ level: 60, origin });
    expect(fatal?.msg).toMatch(/boom in a/);
    expect(fatal?.err?.stack).toMatch(/Error: boom in a (timer|promise)\n\s+at /);
  });
});
