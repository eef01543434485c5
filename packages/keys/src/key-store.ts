import { watch as fsWatch, promises as fs, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { readCertificate, readKeyPair, PUBLIC_FILE_MODE } from "./certificate-file.js";
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
  writeFileAtomic,
} from "./fs-util.js";
import { formatCertificate } from "./certificate-format.js";
import type { KeyPair } from "./keypair.js";
import { certificateLayout, PUBLIC_DIR_MODE, type CertificateLayout } from "./layout.js";
import { assertKeyName, isValidKeyName } from "./names.js";
import { FileCache, scanDirectory, type ScannedFile } from "./store-scan.js";
import { decodeCurveKey } from "./z85.js";

/** One allowed (or, from {@link KeyStore.listRevoked}, revoked) public key. */
export interface StoredKey {
  /** File name without `.key` (for revoked keys: the name it had before revocation). */
  readonly name: string;
  /** Z85, 40 characters. */
  readonly publicKey: string;
  /** The certificate file. */
  readonly path: string;
}

/** What a {@link KeyStore.watch} listener hears. A replaced key is `removed` then `added`. */
export type KeyStoreChange =
  | { readonly type: "added"; readonly key: StoredKey }
  | { readonly type: "removed"; readonly key: StoredKey };

/** Options of {@link KeyStore.open}. */
export interface KeyStoreOptions {
  /** Rescan this often (ms) to catch what fs.watch misses (NFS, replaced directories); 0 = never. Default 1000. */
  pollIntervalMs?: number;
  /** Use fs.watch for prompt updates. Default true. */
  fsWatch?: boolean;
  /** Delay (ms) between a file-system event and the rescan, to coalesce bursts. Default 25. */
  debounceMs?: number;
  /**
   * Hears each distinct problem once: unreadable or malformed certificates (skipped, never
   * allowed), revoked keys found in `public_keys/`, throwing listeners. Default: ignore (see
   * {@link KeyStore.problems}); listener errors become process warnings.
   */
  onError?: (error: KeyError) => void;
}

/** Default of {@link KeyStoreOptions.pollIntervalMs}. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Default of {@link KeyStoreOptions.debounceMs}. */
export const DEFAULT_DEBOUNCE_MS = 25;

/** Options of {@link KeyStore.add}. */
export interface AddKeyOptions {
  /** Replace an existing key of the same name. Default false. */
  force?: boolean;
  /** Metadata for the certificate's `metadata` section. Default none. */
  metadata?: Record<string, string>;
}

function parseOptions(options: KeyStoreOptions): Required<Omit<KeyStoreOptions, "onError">> {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 0) {
    throw new KeyError(
      `pollIntervalMs must be a number >= 0 (0 = no polling); got ${pollIntervalMs}`,
    );
  }
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new KeyError(`debounceMs must be a number >= 0; got ${debounceMs}`);
  }
  return { pollIntervalMs, debounceMs, fsWatch: options.fsWatch ?? true };
}

// revoked/<name>.<20250131T120000123Z[-n]>.key → <name>
const REVOKED_NAME = /^(.+)\.\d{8}T\d{9}Z(?:-\d+)?$/;

/**
 * The allow-list of client public keys: every `public_keys/*.key` certificate whose key has
 * not been revoked. Kept current by fs.watch plus polling, so keys that other processes add,
 * move or delete reach {@link KeyStore.has} and the {@link KeyStore.watch} listeners within
 * about a poll interval, without a restart.
 */
export class KeyStore {
  /** The directories and files this store works on. */
  readonly layout: CertificateLayout;

  private readonly options: Required<Omit<KeyStoreOptions, "onError">>;
  private readonly onError: ((error: KeyError) => void) | undefined;
  private readonly cache = new FileCache();
  private keys = new Map<string, StoredKey>();
  private byPublicKey = new Map<string, StoredKey>();
  private revoked = new Map<string, StoredKey>();
  private currentProblems: KeyError[] = [];
  private readonly reported = new Set<string>();
  private readonly listeners = new Set<(change: KeyStoreChange) => void>();
  private readonly watchers = new Map<string, { watcher: FSWatcher; ino: number | undefined }>();
  private queue: Promise<unknown> = Promise.resolve();
  private pendingScan: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(layout: CertificateLayout, options: KeyStoreOptions) {
    this.layout = layout;
    this.options = parseOptions(options);
    this.onError = options.onError;
  }

  /**
   * Opens the store over a certificates directory (the seed's layout), creating
   * `public_keys/` and `revoked/` if missing, and reads it once.
   * @throws {KeyError} bad options; {@link KeyFileError} when the directories cannot be made.
   */
  static async open(root: string, options: KeyStoreOptions = {}): Promise<KeyStore> {
    const store = new KeyStore(certificateLayout(root), options);
    await ensureDirectory(store.layout.root, PUBLIC_DIR_MODE);
    await ensureDirectory(store.layout.publicKeysDir, PUBLIC_DIR_MODE);
    await ensureDirectory(store.layout.revokedDir, PUBLIC_DIR_MODE);
    await store.reload();
    store.startWatching();
    return store;
  }

  /** Allowed keys, sorted by name. Includes `server` when `public_keys/server.key` exists (as in the seed). */
  list(): StoredKey[] {
    return [...this.keys.values()];
  }

  /** Revoked keys found in `revoked/`, sorted by file name. */
  listRevoked(): StoredKey[] {
    return [...this.revoked.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  /** True when the Z85 public key is in `public_keys/` and not revoked. */
  has(publicKeyZ85: string): boolean {
    return this.byPublicKey.has(publicKeyZ85);
  }

  /** The allowed key with this public key (the first by name if several files hold it). */
  findByPublicKey(publicKeyZ85: string): StoredKey | undefined {
    return this.byPublicKey.get(publicKeyZ85);
  }

  /** The allowed key of that name. */
  get(name: string): StoredKey | undefined {
    return this.keys.get(name);
  }

  /** Problems of the last scan: certificates that were skipped and why. */
  problems(): KeyError[] {
    return [...this.currentProblems];
  }

  /**
   * Writes `public_keys/<name>.key` (atomically, 0644) and allows it at once.
   * @throws {InvalidKeyNameError} {@link Z85Error} {@link KeyExistsError} (name taken, without
   *   force) {@link KeyRevokedError} (that public key was revoked) {@link KeyFileError}
   */
  async add(name: string, publicKeyZ85: string, options: AddKeyOptions = {}): Promise<StoredKey> {
    assertKeyName(name);
    decodeCurveKey(publicKeyZ85, "public key");
    return this.enqueue(async () => {
      this.assertOpen();
      const revoked = this.revoked.get(publicKeyZ85);
      if (revoked) throw new KeyRevokedError(publicKeyZ85, revoked.path);
      const path = join(this.layout.publicKeysDir, `${name}.key`);
      const text = formatCertificate({ publicKey: publicKeyZ85, metadata: options.metadata ?? {} });
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
      const next = new Map(this.keys);
      next.set(name, key);
      this.apply(next, this.revoked, this.currentProblems);
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
      const revoked = new Map(this.revoked);
      revoked.set(publicKey, key);
      const next = new Map(this.keys);
      next.delete(name);
      this.apply(next, revoked, this.currentProblems);
      return key;
    });
  }

  /** The server's key pair from `private_keys/server.key_secret`. */
  async readServerKeyPair(): Promise<KeyPair> {
    return readKeyPair(this.layout.serverSecretPath);
  }

  /** Rescans both directories now; resolves when the store reflects the disk. */
  async reload(): Promise<void> {
    if (this.pendingScan) return this.pendingScan;
    const scan = this.enqueue(async () => {
      // Cleared when the scan starts: events arriving during it queue another one.
      this.pendingScan = undefined;
      await this.scan();
    });
    this.pendingScan = scan;
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
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
    for (const { watcher } of this.watchers.values()) watcher.close();
    this.watchers.clear();
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

  private async scan(): Promise<void> {
    const publicScan = await scanDirectory(this.layout.publicKeysDir, this.cache, isValidKeyName);
    const revokedScan = await scanDirectory(this.layout.revokedDir, this.cache, () => true);
    const problems = [...publicScan.problems, ...revokedScan.problems];

    const revoked = new Map<string, StoredKey>();
    for (const file of revokedScan.files) {
      const base = file.fileName.slice(0, -".key".length);
      const name = REVOKED_NAME.exec(base)?.[1] ?? base;
      if (!revoked.has(file.publicKey)) revoked.set(file.publicKey, toKey(name, file));
    }
    const keys = new Map<string, StoredKey>();
    for (const file of publicScan.files) {
      const name = file.fileName.slice(0, -".key".length);
      const revokedAs = revoked.get(file.publicKey);
      if (revokedAs) {
        problems.push(new KeyRevokedError(file.publicKey, revokedAs.path));
        continue;
      }
      keys.set(name, toKey(name, file));
    }
    this.apply(keys, revoked, problems);
    this.rewatch(this.layout.publicKeysDir, publicScan.dirIno);
    this.rewatch(this.layout.revokedDir, revokedScan.dirIno);
  }

  // Installs the new state, then tells listeners and the error hook what changed.
  private apply(
    keys: Map<string, StoredKey>,
    revoked: Map<string, StoredKey>,
    problems: KeyError[],
  ): void {
    const sorted = new Map([...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const byPublicKey = new Map<string, StoredKey>();
    for (const key of sorted.values()) {
      if (!byPublicKey.has(key.publicKey)) byPublicKey.set(key.publicKey, key);
    }
    const changes: KeyStoreChange[] = [];
    for (const [name, old] of this.keys) {
      const now = sorted.get(name);
      if (!now || now.publicKey !== old.publicKey) changes.push({ type: "removed", key: old });
    }
    for (const [name, now] of sorted) {
      const old = this.keys.get(name);
      if (!old || old.publicKey !== now.publicKey) changes.push({ type: "added", key: now });
    }
    this.keys = sorted;
    this.byPublicKey = byPublicKey;
    this.revoked = revoked;
    this.currentProblems = problems;
    this.reportProblems(problems);
    for (const change of changes) this.emit(change);
  }

  private emit(change: KeyStoreChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        const wrapped = new KeyError(
          `a key store watch listener threw on ${change.type} ${change.key.name}`,
          {
            cause: error,
          },
        );
        if (this.onError) this.onError(wrapped);
        else process.emitWarning(wrapped);
      }
    }
  }

  private reportProblems(problems: KeyError[]): void {
    const current = new Set<string>();
    for (const problem of problems) {
      const id = `${problem.name}:${problem.message}`;
      current.add(id);
      if (!this.reported.has(id)) {
        this.reported.add(id);
        this.onError?.(problem);
      }
    }
    // Forget fixed problems so they are reported again if they come back.
    for (const id of this.reported) if (!current.has(id)) this.reported.delete(id);
  }

  private startWatching(): void {
    if (this.options.pollIntervalMs > 0) {
      this.pollTimer = setInterval(
        () => void this.reload().catch(() => undefined),
        this.options.pollIntervalMs,
      );
      this.pollTimer.unref();
    }
  }

  // (Re)creates the fs.watch of a directory when missing, failed, or the directory was replaced.
  private rewatch(dir: string, ino: number | undefined): void {
    if (this.closed || !this.options.fsWatch) return;
    const current = this.watchers.get(dir);
    if (current && current.ino === ino) return;
    current?.watcher.close();
    this.watchers.delete(dir);
    try {
      const watcher = fsWatch(dir, { persistent: false }, () => this.scheduleScan());
      watcher.on("error", () => {
        // The poll keeps the store current and retries the watch on its next scan.
        watcher.close();
        if (this.watchers.get(dir)?.watcher === watcher) this.watchers.delete(dir);
        this.scheduleScan();
      });
      this.watchers.set(dir, { watcher, ino });
    } catch {
      // Directory missing or watch limit reached: polling covers it.
    }
  }

  private scheduleScan(): void {
    if (this.closed || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.reload().catch(() => undefined);
    }, this.options.debounceMs);
    this.debounceTimer.unref();
  }
}

function toKey(name: string, file: ScannedFile): StoredKey {
  return { name, publicKey: file.publicKey, path: file.path };
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw fileError(path, "inspect", error);
  }
}
