// What the client loads, so that its idle footprint (docs/benchmarks.md) does not creep back up
// unnoticed. Structural checks only: memory and CPU are measured by `tools/bench footprint`.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI, assertBuilt } from "./cli-process.js";
import { cleanupTempDirs, tempDir } from "./helpers.js";
import { disposeWorlds, makeWorld } from "./world.js";

const PRELOAD = fileURLToPath(new URL("./fixtures/report-loaded.mjs", import.meta.url));

beforeAll(assertBuilt);
afterEach(async () => {
  await disposeWorlds();
  await cleanupTempDirs();
});

interface Loaded {
  readonly builtins: string[];
  readonly addons: string[];
}

async function loadedBy(args: string[], dir: string): Promise<{ code: number | null } & Loaded> {
  const report = join(dir, "loaded.json");
  const child = spawn(process.execPath, ["--import", pathToFileURL(PRELOAD).href, CLI, ...args], {
    env: { ...process.env, LOADED_REPORT: report },
    stdio: "ignore",
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, ...(JSON.parse(await readFile(report, "utf8")) as Loaded) };
}

describe("osad2-client's modules", () => {
  it("status loads neither ZeroMQ nor the HTTP/TLS stack of registration", async () => {
    const dir = await tempDir();
    const cfg = join(dir, "osad_client.cfg");
    await writeFile(cfg, `[osad]\nstate_file = ${join(dir, "none.json")}\n`);
    const loaded = await loadedBy(["status", "--config", cfg], dir);
    expect(loaded.code).toBe(3); // not running: the command ran to its end
    expect(loaded.addons.filter((a) => a.includes("zeromq"))).toEqual([]);
    expect(loaded.builtins).not.toContain("http");
    expect(loaded.builtins).not.toContain("https");
    expect(loaded.builtins).not.toContain("tls");
  });

  it("run registers through its helper process: the service loads no HTTP/TLS stack", async () => {
    const world = await makeWorld();
    const report = join(world.dir, "loaded.json");
    const child = spawn(
      process.execPath,
      ["--import", pathToFileURL(PRELOAD).href, CLI, "run", "--config", world.configPath],
      { env: { ...process.env, LOADED_REPORT: report }, stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (out.includes("connected to the server")) resolve();
      });
      void exited.then(() => reject(new Error(`the service exited early:\n${out}`)));
    });
    expect(world.names).toEqual(["client0001"]); // registered, so the call was made
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const loaded = JSON.parse(await readFile(report, "utf8")) as Loaded;
    expect(loaded.builtins).toContain("child_process");
    for (const stack of ["http", "https", "tls", "_http_client"]) {
      expect(loaded.builtins).not.toContain(stack);
    }
  });

  it("the binary sets V8's flags before it loads the program (no other static import)", async () => {
    const text = await readFile(CLI, "utf8");
    const staticImports = [...text.matchAll(/^import\s[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]);
    expect(staticImports.every((s) => s === "v8" || s === "node:v8")).toBe(true);
    expect(text).toContain('"--lite-mode"');
    expect(text).toMatch(/import\("\.\/cli-main-[^"]+\.js"\)/);
  });
});
