import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";
import { KeyFileError } from "./errors.js";

/** The Node.js error code of an I/O error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

/** Wraps an fs error as a {@link KeyFileError} that says what we were doing. */
export function fileError(path: string, doing: string, error: unknown): KeyFileError {
  const code = errorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  return new KeyFileError(path, `cannot ${doing}: ${reason}`, {
    cause: error,
    ...(code !== undefined ? { code } : {}),
  });
}

/** How {@link writeFileAtomic} replaces the target. */
export interface AtomicWriteOptions {
  /** Permission bits, applied with fchmod so the umask cannot widen or narrow them. */
  mode: number;
  /** When false, an existing target is left alone and EEXIST is thrown. Default true. */
  overwrite?: boolean;
}

/**
 * Writes `data` to a temporary file next to `path` with the final mode already set, fsyncs it
 * and renames (or links, when not overwriting) it into place, so readers — a watching key
 * store in another process, say — never see a half-written certificate or a secret key with
 * loose permissions, even for a moment.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: AtomicWriteOptions,
): Promise<void> {
  const dir = dirname(path);
  // Leading dot and .tmp suffix: the key store ignores such names.
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      options.mode,
    );
    await handle.chmod(options.mode);
    await handle.writeFile(data, "utf8");
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (options.overwrite === false) {
      // link() fails with EEXIST instead of replacing: no race between check and write.
      await fs.link(tmp, path);
      await fs.unlink(tmp);
    } else {
      await fs.rename(tmp, path);
    }
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes a rename durable; best effort because not every file system allows it. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Not supported here (some file systems refuse fsync on directories): nothing to do.
  } finally {
    await handle?.close().catch(() => undefined);
  }
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

/** `2025-01-31T12:00:00.123Z` → `20250131T120000123Z`: sortable, no characters shells mind. */
export function compactTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[-:.]/g, "");
}

/** True when something (file, directory, link) is at `path`; false only for ENOENT. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw fileError(path, "inspect", error);
  }
}
