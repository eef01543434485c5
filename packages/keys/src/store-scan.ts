/**
 * File-system side of the key store: listing a key directory and reading one certificate,
 * re-reading a file only when its stat signature changes.
 */
import { promises as fs, type Stats } from "node:fs";
import { readCertificate, PUBLIC_CERT_SUFFIX } from "./certificate-file.js";
import { KeyError, KeyFileError } from "./errors.js";
import { errorCode, fileError } from "./fs-util.js";

/** What one `*.key` file holds right now. */
export type KeyFileState =
  | { readonly kind: "missing" }
  | { readonly kind: "ok"; readonly publicKey: string }
  /** Read, and not a certificate (malformed, too big, not a regular file...); `mtimeMs` of what was read. */
  | { readonly kind: "error"; readonly error: KeyError; readonly mtimeMs: number }
  /**
   * Could not be read for a reason that says nothing about the file (out of descriptors or
   * memory, an I/O error): not remembered, read again later.
   */
  | { readonly kind: "unreadable"; readonly error: KeyError };

// errnos that are about this process or the moment, not about the file.
const TRANSIENT_CODES = new Set(["EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "EINTR", "EIO", "EBUSY"]);

/** True for a read failure that says nothing about what the file holds (see {@link KeyFileState}). */
export function isTransientReadError(error: unknown): boolean {
  const code = error instanceof KeyFileError ? error.code : errorCode(error);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

interface CacheEntry {
  readonly signature: string;
  readonly state: KeyFileState;
}

function signatureOf(stat: Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.mode}`;
}

/** True for names the store looks at: `*.key`, not hidden (our temporary files are hidden). */
export function isKeyFileName(fileName: string): boolean {
  return !fileName.startsWith(".") && fileName.endsWith(PUBLIC_CERT_SUFFIX);
}

/** Remembers what each file held at a given stat signature. */
export class FileCache {
  private readonly entries = new Map<string, CacheEntry>();

  /** Stats `path` and reads it only if it changed since the last read. */
  async read(path: string): Promise<KeyFileState> {
    let stat: Stats;
    try {
      stat = await fs.stat(path);
    } catch (error) {
      if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") {
        this.entries.delete(path);
        return { kind: "missing" };
      }
      const problem = fileError(path, "inspect", error);
      return isTransientReadError(error)
        ? { kind: "unreadable", error: problem }
        : { kind: "error", error: problem, mtimeMs: Date.now() };
    }
    // A directory or socket named *.key is not a certificate; treat it as absent.
    if (!stat.isFile()) return { kind: "missing" };
    const signature = signatureOf(stat);
    const cached = this.entries.get(path);
    if (cached?.signature === signature) return cached.state;
    let state: KeyFileState;
    try {
      state = { kind: "ok", publicKey: (await readCertificate(path)).publicKey };
    } catch (error) {
      const problem = error instanceof KeyError ? error : fileError(path, "read", error);
      // Not remembered: the next look reads the file again.
      if (isTransientReadError(problem)) return { kind: "unreadable", error: problem };
      state = { kind: "error", error: problem, mtimeMs: stat.mtimeMs };
    }
    this.entries.set(path, { signature, state });
    return state;
  }

  /** Records a file we wrote ourselves, so no later event or scan reads it again. */
  async remember(path: string, publicKey: string): Promise<void> {
    try {
      const stat = await fs.stat(path);
      this.entries.set(path, { signature: signatureOf(stat), state: { kind: "ok", publicKey } });
    } catch {
      this.entries.delete(path);
    }
  }

  forget(path: string): void {
    this.entries.delete(path);
  }
}

/** Runs `task` over `items` with at most `limit` running at once (fs calls go to libuv's pool). */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
