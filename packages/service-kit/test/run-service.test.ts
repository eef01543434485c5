import { TempDirs, waitFor } from "@osad2/test-helpers";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

// A real process: signals go to it, not to the test runner. It runs the build (nx builds first).
const built = pathToFileURL(fileURLToPath(new URL("../dist/index.js", import.meta.url))).href;

const dirs = new TempDirs("osad2-kit-run-");
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await dirs.removeAll();
});

/** A service whose stop() finishes at once, or never (`hangingStop`). It prints what happens. */
function serviceScript(pidfile: string, logFile: string, hangingStop: boolean): string {
  return `
import { runService } from ${JSON.stringify(built)};
const code = await runService({
  program: "node",
  logFile: ${JSON.stringify(logFile)},
  debug: false,
  pidfile: ${JSON.stringify(pidfile)},
  stoppingMessage: "stopping (test)",
  // A real service's sockets keep the process alive; here a timer does, until stop().
  create: () => {
    let alive;
    return {
      // runService installs its signal handlers once start() has resolved (a microtask later);
      // "started" is printed from the next turn of the loop, after them, so the test never
      // signals a process still without a handler (which the signal's default would kill).
      start: async () => { alive = setInterval(() => undefined, 60_000); setImmediate(() => console.log("started")); },
      stop: () => {
        console.log("stop");
        ${hangingStop ? "return new Promise(() => undefined);" : "clearInterval(alive); return Promise.resolve();"}
      },
      hangup: () => console.log("hangup"),
    };
  },
});
console.log("code " + code);
process.exit(code);
`;
}

async function startService(hangingStop: boolean) {
  const dir = await dirs.make();
  const pidfile = join(dir, "run.pid");
  const logFile = join(dir, "run.log");
  const script = join(dir, "service.mjs");
  await writeFile(script, serviceScript(pidfile, logFile, hangingStop));
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await waitFor("service started", () => output.includes("started\n"));
  return { child, pidfile, logFile, exited, output: () => output };
}

describe("runService / runUntilSignalled", () => {
  it("holds the pidfile while running, SIGHUP reopens the log and tells the service, SIGTERM stops it (0)", async () => {
    const run = await startService(false);
    expect((await readFile(run.pidfile, "utf8")).trim()).toBe(String(run.child.pid));
    run.child.kill("SIGHUP");
    await waitFor("hangup told", () => run.output().includes("hangup\n"));
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.output()).toBe("started\nhangup\nstop\ncode 0\n");
    expect(existsSync(run.pidfile)).toBe(false);
    expect(await readFile(run.logFile, "utf8")).toContain('"msg":"stopping (test)"');
  });

  it("a second signal while stopping exits at once with 1", async () => {
    const run = await startService(true);
    run.child.kill("SIGINT");
    await waitFor("stopping", () => run.output().includes("stop\n"));
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(1);
    expect(run.output()).toBe("started\nstop\ncode 1\n");
    expect(await readFile(run.logFile, "utf8")).toContain("second signal while stopping");
  });
});
