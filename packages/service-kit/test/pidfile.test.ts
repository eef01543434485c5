import { TempDirs, caught, waitFor } from "@osad2/test-helpers";
import { spawn, type ChildProcess } from "node:child_process";
import { lstat, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  PidfileError,
  acquirePidfile,
  pidfileProcess,
  processAlive,
  readPidfile,
  runsProgram,
} from "../src/index.js";

const dirs = new TempDirs("osad2-kit-pid-");
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await dirs.removeAll();
});

/** A live process whose script is called `name`, like `node /usr/bin/osad2-client`. */
async function runScript(
  dir: string,
  name: string,
  body = "setInterval(() => {}, 1000);",
): Promise<ChildProcess> {
  const script = join(dir, name);
  await writeFile(script, body);
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  // Alive is not enough: until exec() the child's command line is still its parent's.
  await waitFor(
    `${name} started`,
    async () => child.pid !== undefined && (await runsProgram(child.pid, name)),
  );
  return child;
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error("child has no pid");
  return child.pid;
}

async function refusal(promise: Promise<unknown>): Promise<PidfileError> {
  const error = await caught(() => promise);
  expect(error).toBeInstanceOf(PidfileError);
  return error as PidfileError;
}

describe("acquirePidfile", () => {
  it("writes the pid 0640 in a 0750 directory whatever the umask and removes it on release", async () => {
    const path = join(await dirs.make(), "run", "deeper", "osad2-test.pid");
    const old = process.umask(0o000);
    let release: () => Promise<void>;
    try {
      release = await acquirePidfile(path, { program: "osad2-test", markers: [] });
    } finally {
      process.umask(old);
    }
    expect(await readFile(path, "utf8")).toBe(`${process.pid}\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect((await stat(join(path, ".."))).mode & 0o777).toBe(0o750);
    expect((await stat(join(path, "..", ".."))).mode & 0o777).toBe(0o750);
    expect(await readPidfile(path)).toBe(process.pid);
    await release();
    await expect(lstat(path)).rejects.toThrow(/ENOENT/);
  });

  it("refuses while a live process of the same program holds it", async () => {
    const dir = await dirs.make();
    const holder = await runScript(dir, "osad2-test");
    const path = join(dir, "osad2-test.pid");
    await writeFile(path, `${pidOf(holder)}\n`);
    const error = await refusal(acquirePidfile(path, { program: "osad2-test", markers: [] }));
    expect(error).toMatchObject({ problem: "running", pid: pidOf(holder), path });
    expect(error.message).toBe(
      `osad2-test is already running (pid ${pidOf(holder)}, pidfile ${path}): stop it first`,
    );
    expect(await pidfileProcess(path, { program: "osad2-test", markers: [] })).toEqual({
      pid: pidOf(holder),
      running: true,
    });
  });

  it("replaces a stale file: a dead pid, garbage, or a live pid that is another program (pid 1)", async () => {
    const dir = await dirs.make();
    const other = await runScript(dir, "not-osad2.js");
    const dead = await runScript(dir, "osad2-test");
    const deadPid = pidOf(dead);
    dead.kill("SIGKILL");
    await waitFor("the process gone", async () => !(await runsProgram(deadPid, "osad2-test")));
    expect(processAlive(1)).toBe(true);
    expect(processAlive(0)).toBe(false);
    expect(processAlive(-5)).toBe(false);
    for (const content of [`${deadPid}\n`, "garbage\n", "1\n", `${pidOf(other)}\n`]) {
      const path = join(dir, "osad2-test.pid");
      await writeFile(path, content);
      expect((await pidfileProcess(path, { program: "osad2-test", markers: [] })).running).toBe(
        false,
      );
      const release = await acquirePidfile(path, { program: "osad2-test", markers: [] });
      expect(await readPidfile(path)).toBe(process.pid);
      await release();
    }
  });

  it("knows the program by a marker path too (how it was started)", async () => {
    const dir = await dirs.make();
    const holder = await runScript(dir, "cli.js");
    const path = join(dir, "x.pid");
    await writeFile(path, `${pidOf(holder)}\n`);
    const marker = join(dir, "cli.js");
    expect(await runsProgram(pidOf(holder), "osad2-test")).toBe(false);
    expect(await runsProgram(pidOf(holder), "osad2-test", [marker])).toBe(true);
    const error = await refusal(acquirePidfile(path, { program: "osad2-test", markers: [marker] }));
    expect(error.problem).toBe("running");
  });

  it("never follows a symlink", async () => {
    const dir = await dirs.make();
    const target = join(dir, "victim");
    await writeFile(target, "precious\n");
    const path = join(dir, "osad2-test.pid");
    await symlink(target, path);
    const error = await refusal(acquirePidfile(path, { program: "osad2-test", markers: [] }));
    expect(error.problem).toBe("symlink");
    expect(await readFile(target, "utf8")).toBe("precious\n");
    expect(await readPidfile(path)).toBeUndefined();
  });

  it("lets exactly one of several starters racing for a stale file win", async () => {
    const dir = await dirs.make();
    const path = join(dir, "race.pid");
    await writeFile(path, "1\n");
    // The racers are separate processes running the built package, as real starters would.
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const script = join(dir, "osad2-racer.mjs");
    await writeFile(
      script,
      `import { acquirePidfile } from ${JSON.stringify(dist)};
try {
  await acquirePidfile(${JSON.stringify(path)}, { program: "osad2-racer.mjs", markers: [] });
  process.stdout.write("won\\n");
  setInterval(() => {}, 1000);
} catch (error) {
  process.stdout.write(\`\${error.problem ?? error.message}\\n\`);
  process.exit(0);
}
`,
    );
    const outputs: string[] = ["", "", "", ""];
    for (let i = 0; i < outputs.length; i++) {
      const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
      children.push(child);
      child.stdout?.on("data", (chunk: Buffer) => {
        outputs[i] = `${outputs[i] ?? ""}${chunk.toString()}`;
      });
    }
    await waitFor("every racer decided", () => outputs.every((o) => o.endsWith("\n")), {
      timeoutMs: 20_000,
    });
    expect(outputs.map((o) => o.trim()).sort()).toEqual(["running", "running", "running", "won"]);
  });
});
