/**
 * Brings the key store's model in line with the disk: a full rescan of a key directory, or
 * one file after an fs.watch event. Only the store calls it, one task at a time.
 */
import { promises as fs } from "node:fs";
import { join, sep } from "node:path";
import { KeyError } from "./errors.js";
import { errorCode, fileError, parseCompactTimestamp } from "./fs-util.js";
import type { CertificateLayout } from "./layout.js";
import { isValidKeyName } from "./names.js";
import type { DirectoryMonitor } from "./store-monitor.js";
import { forEachLimited, isKeyFileName, type FileCache, type KeyFileState } from "./store-scan.js";
import type { KeyStoreState } from "./store-state.js";

// revoked/<name>.<20250131T120000123Z[-n]>.key → <name> (the time it was revoked);
// retiring/<name>.<20250131T120000123Z[-n]>.key → <name> and the deadline.
const STAMPED_NAME = /^(.+)\.(\d{8}T\d{9}Z)(?:-\d+)?$/;
// Parallel stat/read calls during a full scan (libuv's pool has 4 threads by default).
const SCAN_CONCURRENCY = 16;
/**
 * A key file that held a key and reads as malformed within this long of its last write is
 * taken for one being written in place (cp, an editor, a shell redirect write it in steps):
 * the key it held stays in force and the file is read again this much later. Losing a key is
 * not free: the server cuts every connection to shut a removed key out.
 */
export const KEY_FILE_SETTLE_MS = 1_000;

export class DiskSync {
  /** Inode of each directory at its last full scan (undefined: missing). */
  readonly inodes = new Map<string, number | undefined>();

  constructor(
    private readonly layout: CertificateLayout,
    private readonly state: KeyStoreState,
    private readonly cache: FileCache,
    private readonly monitor: DirectoryMonitor,
  ) {}

  /** Rescans one key directory completely. */
  async scanDirectory(dir: string): Promise<void> {
    let ino: number | undefined;
    let names: string[];
    try {
      ino = (await fs.stat(dir)).ino;
      // Watch before listing, so nothing changed in between goes unnoticed.
      this.monitor.watch(dir, ino);
      names = (await fs.readdir(dir)).filter(isKeyFileName).sort();
      this.state.setProblem(dir, undefined);
    } catch (error) {
      const code = errorCode(error);
      // retiring/ came after the seed's layout: a tree without it simply has nothing retiring.
      const optional = dir === this.layout.retiringDir && code === "ENOENT";
      this.state.setProblem(
        dir,
        optional ? undefined : fileError(dir, "list key directory", error),
      );
      // Unreadable for a moment (EACCES, EIO): keep what we know rather than drop every key.
      if (code !== "ENOENT" && code !== "ENOTDIR") return;
      this.monitor.watch(dir, undefined);
      ino = undefined;
      names = [];
    }
    this.inodes.set(dir, ino);
    await forEachLimited(names, SCAN_CONCURRENCY, (fileName) => this.refresh(dir, fileName));

    const present = new Set(names.map((fileName) => join(dir, fileName)));
    if (dir === this.layout.publicKeysDir) {
      for (const name of this.state.publicNames()) {
        if (!present.has(join(dir, `${name}.key`))) this.state.setPublic(name, undefined);
      }
    } else if (dir === this.layout.retiringDir) {
      for (const path of this.state.retiringPaths()) {
        if (!present.has(path)) this.state.setRetiring(path, undefined);
      }
    } else {
      for (const path of this.state.revokedPaths()) {
        if (!present.has(path)) this.state.setRevoked(path, undefined);
      }
    }
    for (const path of this.state.problemPaths()) {
      if (path.startsWith(dir + sep) && !present.has(path)) this.state.setProblem(path, undefined);
    }
  }

  /** Brings one file's entry up to date. */
  async refresh(dir: string, fileName: string): Promise<void> {
    if (!isKeyFileName(fileName)) return;
    const path = join(dir, fileName);
    const file = await this.cache.read(path);
    const base = fileName.slice(0, -".key".length);
    if (this.holdsOn(dir, fileName, path, file)) return;
    if (dir === this.layout.retiringDir) {
      this.refreshRetiring(path, base, file);
      return;
    }
    if (dir === this.layout.revokedDir) {
      const name = STAMPED_NAME.exec(base)?.[1] ?? base;
      this.state.setProblem(path, file.kind === "error" ? file.error : undefined);
      this.state.setRevoked(
        path,
        file.kind === "ok" ? { name, publicKey: file.publicKey, path } : undefined,
      );
      return;
    }
    if (!isValidKeyName(base)) {
      const problem = new KeyError(
        `${path}: ignored, "${base}" is not a valid key name ([A-Za-z0-9._-]{1,64}, not starting with ".")`,
      );
      this.state.setProblem(path, file.kind === "missing" ? undefined : problem);
      return;
    }
    if (file.kind === "ok") {
      this.state.clearFileProblem(path);
      this.state.setPublic(base, { name: base, publicKey: file.publicKey, path });
    } else {
      this.state.setProblem(path, file.kind === "error" ? file.error : undefined);
      this.state.setPublic(base, undefined);
    }
  }

  /**
   * True when a file that gave a key reads as unreadable for the moment (descriptors or memory
   * exhausted, an I/O error) or as malformed just after a write: what it held stays in force,
   * and it is read again after {@link KEY_FILE_SETTLE_MS}. Nothing is reported meanwhile.
   */
  private holdsOn(dir: string, fileName: string, path: string, file: KeyFileState): boolean {
    const transient =
      file.kind === "unreadable" ||
      (file.kind === "error" && Date.now() - file.mtimeMs < KEY_FILE_SETTLE_MS);
    if (!transient) return false;
    const name = fileName.slice(0, -".key".length);
    if (!this.state.holdsKeyFrom(path, name)) {
      // Nothing to lose: a new file is reported as it reads now (and read again if unreadable).
      if (file.kind === "unreadable") this.monitor.recheck(dir, fileName, KEY_FILE_SETTLE_MS);
      return false;
    }
    this.monitor.recheck(dir, fileName, KEY_FILE_SETTLE_MS);
    return true;
  }

  // Only a file named <name>.<deadline>.key may be allowed: no deadline, never allowed.
  private refreshRetiring(path: string, base: string, file: KeyFileState): void {
    const match = STAMPED_NAME.exec(base);
    const name = match?.[1];
    const deadline = match?.[2] === undefined ? undefined : parseCompactTimestamp(match[2]);
    if (name === undefined || deadline === undefined || !isValidKeyName(name)) {
      const problem = new KeyError(
        `${path}: ignored, a retiring key is named <name>.<deadline as YYYYMMDDTHHMMSSmmmZ>.key`,
      );
      this.state.setProblem(path, file.kind === "missing" ? undefined : problem);
      this.state.setRetiring(path, undefined);
      return;
    }
    this.state.setProblem(path, file.kind === "error" ? file.error : undefined);
    this.state.setRetiring(
      path,
      file.kind === "ok" ? { name, publicKey: file.publicKey, path, deadline } : undefined,
    );
  }
}
