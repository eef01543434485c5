import { TempDirs } from "@osad2/test-helpers";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { copyFileAtomic, errnoCode, writeFileAtomic } from "../src/index.js";

const dirs = new TempDirs("osad2-kit-atomic-");
afterEach(() => dirs.removeAll());

describe("writeFileAtomic", () => {
  it("writes with the given mode whatever the umask, and leaves no temp file", async () => {
    const dir = await dirs.make();
    const path = join(dir, "secret");
    const old = process.umask(0o000);
    try {
      await writeFileAtomic(path, "one\n", { mode: 0o600 });
    } finally {
      process.umask(old);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, Buffer.from("two\n"), { mode: 0o644 });
    expect(await readFile(path, "utf8")).toBe("two\n");
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await readdir(dir)).toEqual(["secret"]);
  });

  it("refuses to replace a file when overwrite is false", async () => {
    const dir = await dirs.make();
    const path = join(dir, "key");
    await writeFile(path, "theirs");
    const error = await writeFileAtomic(path, "mine", { mode: 0o600, overwrite: false }).catch(
      (e: unknown) => e,
    );
    expect(errnoCode(error)).toBe("EEXIST");
    expect(await readFile(path, "utf8")).toBe("theirs");
    expect(await readdir(dir)).toEqual(["key"]);
  });

  it("copies a file into place with its own mode", async () => {
    const dir = await dirs.make();
    const source = join(dir, "built.rpm");
    await writeFile(source, Buffer.alloc(200_000, 7), { mode: 0o600 });
    const target = join(dir, "out.rpm");
    await copyFileAtomic(source, target, { mode: 0o644 });
    expect((await readFile(target)).equals(await readFile(source))).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o644);
    await expect(copyFileAtomic(source, target, { mode: 0o644, overwrite: false })).rejects.toThrow(
      /EEXIST/,
    );
    expect((await readdir(dir)).sort()).toEqual(["built.rpm", "out.rpm"]);
  });
});
