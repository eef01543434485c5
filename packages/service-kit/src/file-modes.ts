import { chmodSync, mkdirSync, promises as fs, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UnsafeDirectoryError } from "./errors.js";

/** Bits that let a group or others write (and so add, replace or remove files). */
const GROUP_OTHER_WRITE = 0o022;

/**
 * The directories `mkdir -p` would create for `path`, outermost first (none when it exists).
 * Each one is then chmod-ed, so neither the umask nor a recursive mkdir's shared mode decides.
 */
function missingDirectories(path: string): string[] {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      statSync(current);
      break;
    } catch {
      missing.unshift(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  return missing;
}

/**
 * `mkdir -p path`, every directory it creates getting exactly `mode` whatever the umask
 * (an existing directory keeps the mode its admin gave it). Synchronous: used at start-up.
 */
export function ensureDirectorySync(path: string, mode: number): void {
  const missing = missingDirectories(path);
  mkdirSync(path, { recursive: true, mode });
  for (const dir of missing) chmodSync(dir, mode);
}

/** {@link ensureDirectorySync}, asynchronously. */
export async function ensureDirectory(path: string, mode: number): Promise<void> {
  const missing = missingDirectories(path);
  await fs.mkdir(path, { recursive: true, mode });
  for (const dir of missing) await fs.chmod(dir, mode);
}

/**
 * Refuses a directory that its group or others may write: whoever can write it can add,
 * swap or delete the files in it (an allowed key, a secret, a pidfile).
 * @param what what the directory holds, for the message (e.g. "the allowed client keys").
 * @throws {UnsafeDirectoryError} with the `chmod go-w` that fixes it.
 */
export function assertNotGroupOrWorldWritable(path: string, what: string): void {
  const mode = statSync(path).mode & 0o7777;
  if ((mode & GROUP_OTHER_WRITE) !== 0) throw new UnsafeDirectoryError(path, mode, what);
}
