import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import * as source from "../src/index.js";
import * as zeromqSource from "../src/zeromq/index.js";

// What gets published is dist/, not src/: import the build (nx runs build before test).
const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const builtZeromq = fileURLToPath(new URL("../dist/zeromq/index.js", import.meta.url));

describe("published build", () => {
  it("exists and exports exactly what src/index.ts exports", async () => {
    expect(existsSync(built), `${built} missing: run the build first`).toBe(true);
    const dist = (await import(pathToFileURL(built).href)) as Record<string, unknown>;
    expect(Object.keys(dist).sort()).toEqual(Object.keys(source).sort());
    const backoffDelay = dist.backoffDelay as typeof source.backoffDelay;
    expect(backoffDelay(2)).toBe(1_000);
  });

  it("has the ./zeromq subpath, and no entry loads zeromq: the service passes its own (npm installs service-kit where the services' zeromq does not resolve)", async () => {
    const dist = (await import(pathToFileURL(builtZeromq).href)) as Record<string, unknown>;
    expect(Object.keys(dist).sort()).toEqual(Object.keys(zeromqSource).sort());
    // The main entry, the chunks it shares with ./zeromq (dist/*.js), and ./zeromq itself.
    const distDir = path.dirname(built);
    const files = (await readdir(distDir)).filter((name) => name.endsWith(".js"));
    for (const file of [...files, path.join("zeromq", "index.js")]) {
      expect(await readFile(path.join(distDir, file), "utf8"), file).not.toMatch(
        /from\s*["']zeromq["']|import\(["']zeromq["']\)/,
      );
    }
    const manifest = JSON.parse(
      await readFile(new URL("../package.json", import.meta.url), "utf8"),
    ) as { exports: Record<string, unknown>; peerDependencies: Record<string, string> };
    expect(Object.keys(manifest.exports)).toContain("./zeromq");
    expect(manifest.peerDependencies.zeromq).toBeDefined();
  });
});
