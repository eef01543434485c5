import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import * as source from "../src/index.js";

// What gets published is dist/, not src/: import the build (nx runs build before test).
const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("published build", () => {
  it("exists and exports exactly what src/index.ts exports", async () => {
    expect(existsSync(built), `${built} missing: run the build first`).toBe(true);
    const dist = (await import(pathToFileURL(built).href)) as Record<string, unknown>;
    expect(Object.keys(dist).sort()).toEqual(Object.keys(source).sort());
    const backoffDelay = dist.backoffDelay as typeof source.backoffDelay;
    expect(backoffDelay(2)).toBe(1_000);
  });
});
