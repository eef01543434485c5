import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, copyFile, link, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** True when `path` exists (symlinks followed); false only for ENOENT, other errors are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/**
 * Why files cannot be created in `dir` (or, when it does not exist yet, why it cannot be created),
 * or undefined when they can. Checks without writing anything.
 */
export async function directoryProblem(dir: string): Promise<string | undefined> {
  let current = dir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(current)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dirname(current) !== current) {
        current = dirname(current);
        continue;
      }
      if (code === "ENOTDIR") return `cannot be created: a file is in the way in ${current}`;
      return `cannot be used: ${(error as Error).message}`;
    }
    const where = current === dir ? "" : ` (it would be created in ${current})`;
    if (!isDirectory)
      return current === dir
        ? "is not a directory"
        : `cannot be created: ${current} is not a directory`;
    try {
      await access(current, constants.W_OK | constants.X_OK);
    } catch {
      return `is not writable${where}`;
    }
    return undefined;
  }
}

/** A name next to `path` that no other writer picks: `.<name>.tmp-<random>`. */
export function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
}

/**
 * Puts `content` (a string) or a copy of the file `from` at `path` in one step: written beside it, then
 * renamed (`replace`) or hard-linked (fails with EEXIST instead of replacing a file another process made).
 */
export async function publishFile(
  path: string,
  source: { content: string; mode: number } | { from: string },
  replace: boolean,
): Promise<void> {
  const temp = temporarySibling(path);
  try {
    if ("from" in source) await copyFile(source.from, temp);
    else await writeFile(temp, source.content, { mode: source.mode, flag: "wx" });
    if (replace) await rename(temp, path);
    else await link(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
