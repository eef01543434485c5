import { promises as fs } from "node:fs";
import { errnoCode } from "@osad2/service-kit";
import { KeyFileError } from "./errors.js";

// One errno helper and one atomic write for all of osad2: @osad2/service-kit's. The temp
// file it writes (`.<name>.<random>.tmp`, mode set by fchmod, fsynced, then renamed or linked)
// is a name the key store ignores, so a watching store never sees a half-written key.
export { errnoCode as errorCode, writeFileAtomic } from "@osad2/service-kit";
export type { AtomicWriteOptions } from "@osad2/service-kit";

/** Wraps an fs error as a {@link KeyFileError} that says what we were doing. */
export function fileError(path: string, doing: string, error: unknown): KeyFileError {
  const code = errnoCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  return new KeyFileError(path, `cannot ${doing}: ${reason}`, {
    cause: error,
    ...(code !== undefined ? { code } : {}),
  });
}

/** `mkdir -p` then chmod of the last component when we created it. */
export async function ensureDirectory(path: string, mode: number): Promise<void> {
  try {
    const created = await fs.mkdir(path, { recursive: true, mode });
    if (created !== undefined) await fs.chmod(path, mode);
  } catch (error) {
    throw fileError(path, "create directory", error);
  }
  const stat = await fs.stat(path).catch((error: unknown) => {
    throw fileError(path, "inspect directory", error);
  });
  if (!stat.isDirectory()) throw new KeyFileError(path, "exists but is not a directory");
}

/**
 * Gives a directory we just created the owner of `like`, when we run as root: the packager
 * runs as root, the server as its own user, which must be able to move files out of it.
 */
export async function matchOwner(path: string, like: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  try {
    const owner = await fs.stat(like);
    if (owner.uid !== 0 || owner.gid !== 0) await fs.chown(path, owner.uid, owner.gid);
  } catch (error) {
    throw fileError(path, `give the owner of ${like}`, error);
  }
}

/** `2025-01-31T12:00:00.123Z` → `20250131T120000123Z`: sortable, no characters shells mind. */
export function compactTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[-:.]/g, "");
}

/** `20250131T120000123Z` → that Date; undefined for anything else. */
export function parseCompactTimestamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(stamp);
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isNaN(date.getTime()) || compactTimestamp(date) !== stamp ? undefined : date;
}

/** True when something (file, directory, link) is at `path`; false only for ENOENT. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw fileError(path, "inspect", error);
  }
}
