import { promises as fs } from "node:fs";
import { join } from "node:path";
import { readCertificate, readKeyPair, PUBLIC_FILE_MODE } from "./certificate-file.js";
import { formatCertificate } from "./certificate-format.js";
import { assertKeyDirectory } from "./directory-check.js";
import {
  KeyError,
  KeyExistsError,
  KeyFileError,
  KeyNotFoundError,
  KeyRevokedError,
} from "./errors.js";
import {
  compactTimestamp,
  ensureDirectory,
  errorCode,
  fileError,
  pathExists,
  writeFileAtomic,
} from "./fs-util.js";
import type { KeyPair } from "./keypair.js";
import { certificateLayout, PUBLIC_DIR_MODE, type CertificateLayout } from "./layout.js";
import { assertKeyName } from "./names.js";
import { DirectoryMonitor, type ChangedNames } from "./store-monitor.js";
import {
  parseOptions,
  type KeyStoreOptions,
  type AddKeyOptions,
  type ParsedOptions,
} from "./store-options.js";
import { FileCache } from "./store-scan.js";
import { DiskSync } from "./store-sync.js";
import { KeyStoreState, type KeyStoreChange, type StoredKey } from "./store-state.js";
import { decodeCurveKey } from "./z85.js";

/**
 * The allow-list of client public keys: every `public_keys/*.key` certificate whose key has
 * not been revoked. Kept current by fs.watch (per file) and a periodic check, so keys that
 * other processes add, move or delete reach {@link KeyStore.has} and the
 * {@link KeyStore.watch} listeners within about a poll interval, without a restart.
 */
export class KeyStore {
  /** The directories and files this store works on. */
  readonly layout: CertificateLayout;

  private readonly options: ParsedOptions;
  private readonly onError: ((error: KeyError) => void) | undefined;
  private readonly state = new KeyStoreState();
  private readonly cache = new FileCache();
  private readonly monitor: DirectoryMonitor;
  private readonly listeners = new Set<(change: KeyStoreChange) => void>();
  private readonly sync: DiskSync;
  private lastFullScan = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private pendingFullScan: Promise<void> | undefined;
  private tickQueued = false;
  private closed = false;

  private constructor(layout: CertificateLayout, options: KeyStoreOptions) {
    this.layout = layout;
    this.options = parseOptions(options);
    this.onError = options.onError;
    this.monitor = new DirectoryMonitor(
      this.options,
      (batch) => void this.handleChanges(batch).catch((error: unknown) => this.reportError(error)),
      () => this.tick(),
    );
    this.sync = new DiskSync(layout, this.state, this.cache, this.monitor);
  }

  /**
   * Opens the store over a certificates directory (the seed's layout), creating
   * `public_keys/` and `revoked/` if missing, and reads it once.
   * @throws {KeyError} bad options; {@link KeyFileError} when the directories cannot be made;
   *   {@link KeyDirectoryPermissionError} when the root, `public_keys/` or `revoked/` is
   *   group- or world-writable (anyone could allow a key).
   */
  static async open(root: string, options: KeyStoreOptions = {}): Promise<KeyStore> {
    const store = new KeyStore(certificateLayout(root), options);
    await ensureDirectory(store.layout.root, PUBLIC_DIR_MODE);
    await ensureDirectory(store.layout.publicKeysDir, PUBLIC_DIR_MODE);
    await ensureDirectory(store.layout.revokedDir, PUBLIC_DIR_MODE);
    await assertKeyDirectory(store.layout.root, "the certificates directory");
    await assertKeyDirectory(store.layout.publicKeysDir, "the allowed client keys");
    await assertKeyDirectory(store.layout.revokedDir, "the revoked client keys");
    await store.reload();
    store.monitor.start();
    return store;
  }

  /** Allowed keys, sorted by name. Includes `server` when `public_keys/server.key` exists (as in the seed). */
  list(): StoredKey[] {
    return this.state.list();
  }

  /** Revoked keys found in `revoked/`, sorted by path. */
  listRevoked(): StoredKey[] {
    return this.state.listRevoked();
  }

  /** True when the Z85 public key is in `public_keys/` and not revoked. O(1). */
  has(publicKeyZ85: string): boolean {
    return this.state.has(publicKeyZ85);
  }

  /** The allowed key with this public key (the first by name if several files hold it). */
  findByPublicKey(publicKeyZ85: string): StoredKey | undefined {
    return this.state.findByPublicKey(publicKeyZ85);
  }

  /** The allowed key of that name. */
  get(name: string): StoredKey | undefined {
    return this.state.get(name);
  }

  /** Current problems: certificates skipped and why, revoked keys found in `public_keys/`. */
  problems(): KeyError[] {
    return this.state.problems();
  }

  /**
   * Writes `public_keys/<name>.key` (atomically, 0644) and allows it at once.
   * @throws {InvalidKeyNameError} {@link Z85Error} {@link KeyExistsError} (name taken, without
   *   force) {@link KeyRevokedError} (that public key was revoked) {@link KeyFileError}
   */
  async add(name: string, publicKeyZ85: string, options: AddKeyOptions = {}): Promise<StoredKey> {
    assertKeyName(name);
    decodeCurveKey(publicKeyZ85, "public key");
    const text = formatCertificate({ publicKey: publicKeyZ85, metadata: options.metadata ?? {} });
    return this.enqueue(async () => {
      this.assertOpen();
      const revoked = this.state.revokedFileOf(publicKeyZ85);
      if (revoked) throw new KeyRevokedError(publicKeyZ85, revoked.path);
      const path = join(this.layout.publicKeysDir, `${name}.key`);
      try {
        await writeFileAtomic(path, text, {
          mode: PUBLIC_FILE_MODE,
          overwrite: options.force === true,
        });
      } catch (error) {
        if (errorCode(error) === "EEXIST") {
          throw new KeyExistsError(name, path, "revoke it first or pass force to replace it", {
            cause: error,
          });
        }
        throw fileError(path, "write certificate", error);
      }
      await this.cache.remember(path, publicKeyZ85);
      const key: StoredKey = { name, publicKey: publicKeyZ85, path };
      this.state.clearFileProblem(path);
      this.state.setPublic(name, key);
      this.deliver();
      return key;
    });
  }

  /**
   * Moves `public_keys/<name>.key` to `revoked/<name>.<timestamp>.key` (never deletes it) and
   * denies its public key from now on, even if a copy reappears in `public_keys/`.
   * @returns the key as it now lies in `revoked/`.
   * @throws {InvalidKeyNameError} {@link KeyNotFoundError} {@link KeyFileError}
   */
  async revoke(name: string): Promise<StoredKey> {
    assertKeyName(name);
    return this.enqueue(async () => {
      this.assertOpen();
      const path = join(this.layout.publicKeysDir, `${name}.key`);
      let publicKey: string;
      try {
        publicKey = (await readCertificate(path)).publicKey;
      } catch (error) {
        if (error instanceof KeyFileError && error.code === "ENOENT") {
          throw new KeyNotFoundError(name, this.layout.publicKeysDir, { cause: error });
        }
        throw error;
      }
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
      await this.cache.remember(target, publicKey);
      const key: StoredKey = { name, publicKey, path: target };
      this.state.setProblem(path, undefined);
      this.state.setPublic(name, undefined);
      this.state.setRevoked(target, key);
      this.deliver();
      return key;
    });
  }

  /**
   * The server's key pair from `private_keys/server.key_secret`.
   * @throws {KeyDirectoryPermissionError} when `private_keys/` is group- or world-writable.
   */
  async readServerKeyPair(): Promise<KeyPair> {
    if (await pathExists(this.layout.privateKeysDir)) {
      await assertKeyDirectory(this.layout.privateKeysDir, "the server's secret key");
    }
    return readKeyPair(this.layout.serverSecretPath);
  }

  /** Rescans both directories fully now; resolves when the store reflects the disk. */
  async reload(): Promise<void> {
    if (this.pendingFullScan) return this.pendingFullScan;
    const scan = this.enqueue(async () => {
      // Cleared when the scan starts: changes arriving during it get a scan of their own.
      this.pendingFullScan = undefined;
      await this.fullScan();
    });
    this.pendingFullScan = scan;
    return scan;
  }

  /**
   * Calls `listener` for every key added to or removed from the allow-list from now on,
   * whoever made the change (this store, another process, an admin with mv or rm).
   * @returns a function that stops the listener.
   */
  watch(listener: (change: KeyStoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops watching and polling. Idempotent; the last known keys stay readable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.monitor.close();
    this.listeners.clear();
    await this.queue.catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new KeyError(`key store ${this.layout.root} is closed`);
  }

  // Scans and mutations run one at a time so a scan never undoes a concurrent add or revoke.
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // Revoked first, so a revoked key lying in public_keys/ is never announced as added.
  private async fullScan(): Promise<void> {
    await this.sync.scanDirectory(this.layout.revokedDir);
    await this.sync.scanDirectory(this.layout.publicKeysDir);
    this.lastFullScan = Date.now();
    this.deliver();
  }

  private async handleChanges(batch: Map<string, ChangedNames>): Promise<void> {
    await this.enqueue(async () => {
      if (this.closed) return;
      // Revoked first, as in a full scan.
      for (const dir of [this.layout.revokedDir, this.layout.publicKeysDir]) {
        const names = batch.get(dir);
        if (names === "all") await this.sync.scanDirectory(dir);
        else if (names) for (const fileName of names) await this.sync.refresh(dir, fileName);
      }
      this.deliver();
    });
  }

  // The periodic check: cheap while fs.watch covers both directories, a full rescan otherwise.
  private tick(): void {
    if (this.closed || this.tickQueued || this.pendingFullScan) return;
    this.tickQueued = true;
    void this.enqueue(async () => {
      this.tickQueued = false;
      if (this.closed) return;
      let fresh = Date.now() - this.lastFullScan < this.options.fullScanIntervalMs;
      for (const dir of [this.layout.revokedDir, this.layout.publicKeysDir]) {
        const ino = await fs.stat(dir).then(
          (stat) => stat.ino,
          () => undefined,
        );
        // Replaced, removed or unwatched: fs.watch cannot be trusted for this directory.
        if (ino !== this.sync.inodes.get(dir) || !this.monitor.isWatching(dir, ino)) fresh = false;
      }
      if (!fresh) await this.fullScan();
    }).catch((error: unknown) => this.reportError(error));
  }

  // Hands queued changes to listeners and new problems to onError.
  private deliver(): void {
    const { changes, problems } = this.state.drain();
    for (const problem of problems) this.onError?.(problem);
    for (const change of changes) {
      for (const listener of [...this.listeners]) {
        try {
          listener(change);
        } catch (error) {
          this.reportError(
            new KeyError(`a key store watch listener threw on ${change.type} ${change.key.name}`, {
              cause: error,
            }),
          );
        }
      }
    }
  }

  private reportError(error: unknown): void {
    const keyError =
      error instanceof KeyError ? error : new KeyError("key store update failed", { cause: error });
    if (this.onError) this.onError(keyError);
    else process.emitWarning(keyError);
  }
}
