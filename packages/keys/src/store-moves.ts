/**
 * The key store's moves between its directories: `public_keys/` → `revoked/`, the old key of
 * a re-issue → `retiring/`, `retiring/` → `revoked/`. Each updates the model as it goes; the
 * store runs them one at a time (its queue) and delivers the changes.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { readCertificate, PUBLIC_FILE_MODE } from "./certificate-file.js";
import { KeyFileError } from "./errors.js";
import {
  compactTimestamp,
  ensureDirectory,
  errorCode,
  fileError,
  pathExists,
  writeFileAtomic,
} from "./fs-util.js";
import { PUBLIC_DIR_MODE, type CertificateLayout } from "./layout.js";
import type { FileCache } from "./store-scan.js";
import type { KeyStoreState, RetiringKey, StoredKey } from "./store-state.js";

export class KeyMoves {
  constructor(
    private readonly layout: CertificateLayout,
    private readonly state: KeyStoreState,
    private readonly cache: FileCache,
  ) {}

  // public_keys/<name>.key → revoked/; undefined when there is none. Runs inside the queue.
  async revokePublic(name: string): Promise<StoredKey | undefined> {
    const path = join(this.layout.publicKeysDir, `${name}.key`);
    const current = await this.readOptional(path);
    if (!current) return undefined;
    const target = await this.moveToRevoked(path, name);
    const key: StoredKey = { name, publicKey: current.publicKey, path: target };
    await this.cache.remember(target, current.publicKey);
    this.state.setProblem(path, undefined);
    this.state.setPublic(name, undefined);
    this.state.setRevoked(target, key);
    return key;
  }

  // A retiring key → revoked/. Someone else moved it first: it is gone all the same.
  async retire(old: RetiringKey): Promise<StoredKey> {
    let target: string;
    try {
      target = await this.moveToRevoked(old.path, old.name);
    } catch (error) {
      if (error instanceof KeyFileError && error.code === "ENOENT") {
        this.cache.forget(old.path);
        this.state.setRetiring(old.path, undefined);
        return old;
      }
      throw error;
    }
    const key: StoredKey = { name: old.name, publicKey: old.publicKey, path: target };
    await this.cache.remember(target, old.publicKey);
    this.state.setRevoked(target, key);
    this.state.setRetiring(old.path, undefined);
    return key;
  }

  // Writes the old certificate, unchanged, as retiring/<name>.<deadline>.key.
  async keepRetiring(
    name: string,
    publicKey: string,
    bytes: Buffer,
    overlapMs: number,
  ): Promise<RetiringKey> {
    await ensureDirectory(this.layout.retiringDir, PUBLIC_DIR_MODE);
    const deadline = new Date(Date.now() + overlapMs);
    const stamp = compactTimestamp(deadline);
    for (let n = 0; ; n++) {
      const path = join(this.layout.retiringDir, `${name}.${stamp}${n === 0 ? "" : `-${n}`}.key`);
      try {
        await writeFileAtomic(path, bytes, { mode: PUBLIC_FILE_MODE, overwrite: false });
      } catch (error) {
        if (errorCode(error) === "EEXIST") continue;
        throw fileError(path, "write certificate", error);
      }
      await this.cache.remember(path, publicKey);
      const key: RetiringKey = { name, publicKey, path, deadline };
      this.state.setRetiring(path, key);
      return key;
    }
  }

  // revoked/<name>.<now>[-n].key; never replaces a file there.
  async moveToRevoked(path: string, name: string): Promise<string> {
    await ensureDirectory(this.layout.revokedDir, PUBLIC_DIR_MODE);
    const stamp = compactTimestamp();
    let target = join(this.layout.revokedDir, `${name}.${stamp}.key`);
    for (let n = 1; await pathExists(target); n++) {
      target = join(this.layout.revokedDir, `${name}.${stamp}-${n}.key`);
    }
    try {
      await fs.rename(path, target);
    } catch (error) {
      throw fileError(path, `move to ${target}`, error);
    }
    this.cache.forget(path);
    return target;
  }

  // The public key and bytes of a certificate, or undefined when there is no file.
  async readOptional(path: string): Promise<{ publicKey: string; bytes: Buffer } | undefined> {
    try {
      const publicKey = (await readCertificate(path)).publicKey;
      return { publicKey, bytes: await fs.readFile(path) };
    } catch (error) {
      if (error instanceof KeyFileError && error.code === "ENOENT") return undefined;
      if (errorCode(error) === "ENOENT") return undefined;
      throw error;
    }
  }
}
