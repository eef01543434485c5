import { constants } from "node:fs";
import { access, chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errnoCode } from "@osad2/service-kit";

/** True when `path` exists (symlinks followed); false only for ENOENT, other errors are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
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
      const code = errnoCode(error);
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

/** Writes `content` at `root` + absolute `path` with `mode` whatever the umask, creating parent directories. */
export async function writeStaged(
  root: string,
  path: string,
  content: string,
  mode: number,
): Promise<void> {
  const target = join(root, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content, { mode });
  await chmod(target, mode);
}
