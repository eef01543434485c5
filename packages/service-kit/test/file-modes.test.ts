import { TempDirs, caught } from "@osad2/test-helpers";
import { chmod, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  UnsafeDirectoryError,
  assertNotGroupOrWorldWritable,
  ensureDirectory,
  ensureDirectorySync,
} from "../src/index.js";

const dirs = new TempDirs("osad2-kit-modes-");
afterEach(() => dirs.removeAll());

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

describe("ensureDirectory", () => {
  it.each([
    ["async", ensureDirectory],
    ["sync", async (path: string, mode: number) => ensureDirectorySync(path, mode)],
  ])("(%s) gives every directory it creates the mode, under umask 000", async (_, ensure) => {
    const root = await dirs.make();
    const old = process.umask(0o000);
    try {
      await ensure(join(root, "a", "b", "c"), 0o700);
    } finally {
      process.umask(old);
    }
    for (const dir of ["a", "a/b", "a/b/c"]) expect(await modeOf(join(root, dir))).toBe(0o700);
  });

  it("leaves an existing directory's mode alone", async () => {
    const root = await dirs.make();
    await mkdir(join(root, "kept"));
    await chmod(join(root, "kept"), 0o755);
    await ensureDirectory(join(root, "kept", "new"), 0o700);
    expect(await modeOf(join(root, "kept"))).toBe(0o755);
    expect(await modeOf(join(root, "kept", "new"))).toBe(0o700);
  });
});

describe("assertNotGroupOrWorldWritable", () => {
  it.each([0o777, 0o775, 0o757, 0o1777])(
    "refuses mode %o with the chmod that fixes it",
    async (mode) => {
      const dir = await dirs.make();
      await chmod(dir, mode);
      const error = await caught(async () =>
        assertNotGroupOrWorldWritable(dir, "the allowed keys"),
      );
      expect(error).toBeInstanceOf(UnsafeDirectoryError);
      expect((error as UnsafeDirectoryError).mode).toBe(mode);
      expect((error as Error).message).toContain(`chmod go-w ${dir}`);
      expect((error as Error).message).toContain("the allowed keys");
    },
  );

  it.each([0o755, 0o700, 0o750, 0o555])("accepts mode %o", async (mode) => {
    const dir = await dirs.make();
    await chmod(dir, mode);
    expect(() => assertNotGroupOrWorldWritable(dir, "keys")).not.toThrow();
    await chmod(dir, 0o700);
  });
});
