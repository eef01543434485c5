import { promises as fs } from "node:fs";
import { join } from "node:path";
import { readKeyPair, PUBLIC_FILE_MODE } from "./certificate-file.js";
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
  ensureDirectory,
  errorCode,
  fileError,
  matchOwner,
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
  type ReissueOptions,
} from "./store-options.js";
import { FileCache } from "./store-scan.js";
import { DiskSync } from "./store-sync.js";
import { KeyMoves } from "./store-moves.js";
import {
  KeyStoreState,
  type KeyStoreChange,
  type RetiringKey,
  type StoredKey,
} from "./store-state.js";
import { decodeCurveKey } from "./z85.js";

/** What {@link KeyStore.reissue} did. */
export interface ReissueResult {
  /** The new key, now `public_keys/<name>.key`. */
  readonly key: StoredKey;
  /** The old key, now in `retiring/` and still allowed until its deadline (overlap > 0). */
  readonly retiring?: RetiringKey;
  /** Overlap 0: the old key and any retiring keys of the name, now in `revoked/`. Else empty. */
  readonly revoked: readonly StoredKey[];
}

/**
 * The directories one store works on. A proxies store is the same machinery over `proxies/`:
 * its allow-list directory stands where `public_keys/` does, its retiring keys in
 * `proxies/retiring/`; `layout.proxiesDir` keeps naming `proxies/`.
 */
function storeLayout(layout: CertificateLayout, proxies: boolean): CertificateLayout {
  if (!proxies) return layout;
  return {
    ...layout,
    publicKeysDir: layout.proxiesDir,
    retiringDir: join(layout.proxiesDir, "retiring"),
  };
}

// setTimeout's limit (~24.8 days); a later deadline is re-armed when this fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A periodic full rescan that took this long (ms; thousands of keys) is spaced out by its cost. */
export const COSTLY_FULL_SCAN_MS = 50;
/** ... to at least this many times its duration: at most 0.1 % of a core on rescans. */
export const FULL_SCAN_COST_FACTOR = 1_000;

/**
 * The interval of the periodic full rescan: `fullScanIntervalMs`, or for a costly one (18,000
 * keys: ~0.3 s) 1,000 times its last duration (~5 min), while fs.watch carries each change in
 * between; the rescan only catches what the watch missed (an inotify queue overflow).
 */
export function fullScanInterval(fullScanIntervalMs: number, lastScanMs: number): number {
  return lastScanMs >= COSTLY_FULL_SCAN_MS
    ? Math.max(fullScanIntervalMs, lastScanMs * FULL_SCAN_COST_FACTOR)
    : fullScanIntervalMs;
}

/**
 * The allow-list of client public keys: every `public_keys/*.key` certificate whose key has
 * not been revoked, and every `retiring/` key before its deadline. Kept current by fs.watch (per file) and a periodic check, so keys that
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
  private readonly moves: KeyMoves;
  private lastFullScan = 0;
  /** How long the last full scan took (ms). */
  private lastFullScanMs = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private pendingFullScan: Promise<void> | undefined;
  private tickQueued = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private armedDeadline: number | undefined;
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
    this.moves = new KeyMoves(layout, this.state, this.cache);
  }

  /**
   * Opens the store over a certificates directory (the seed's layout), creating
   * `public_keys/`, `revoked/` and `retiring/` if missing, and reads it once. A store that
   * polls (`pollIntervalMs` > 0) also enforces retiring deadlines: it moves a retiring key
   * whose deadline passed to `revoked/` (and {@link has} refuses it from its deadline on, in
   * any store).
   * @throws {KeyError} bad options; {@link KeyFileError} when the directories cannot be made;
   *   {@link KeyDirectoryPermissionError} when the root, `public_keys/`, `revoked/` or
   *   `retiring/` is group- or world-writable (anyone could allow a key).
   */
  static async open(root: string, options: KeyStoreOptions = {}): Promise<KeyStore> {
    const proxies = options.allowList === "proxies";
    const store = new KeyStore(storeLayout(certificateLayout(root), proxies), options);
    const { layout } = store;
    await ensureDirectory(layout.root, PUBLIC_DIR_MODE);
    await ensureDirectory(layout.publicKeysDir, PUBLIC_DIR_MODE);
    await ensureDirectory(layout.revokedDir, PUBLIC_DIR_MODE);
    // Proxy keys are few and rarely re-issued: proxies/retiring/ appears only when one is.
    const hasRetiring = proxies
      ? await pathExists(layout.retiringDir)
      : await store.ensureRetiringDir();
    await assertKeyDirectory(layout.root, "the certificates directory");
    await assertKeyDirectory(
      layout.publicKeysDir,
      proxies ? "the allowed proxy keys" : "the allowed client keys",
    );
    await assertKeyDirectory(layout.revokedDir, "the revoked client keys");
    if (hasRetiring) await assertKeyDirectory(layout.retiringDir, "the retiring client keys");
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

  /**
   * Re-issued keys still allowed until their successor connects or their deadline (expired
   * ones too until a polling store moves them to `revoked/`), by deadline.
   */
  listRetiring(): RetiringKey[] {
    return this.state.listRetiring();
  }

  /**
   * True when the Z85 public key is in `public_keys/`, or in `retiring/` and its deadline has
   * not passed (checked against the clock now), and not revoked. O(1).
   */
  has(publicKeyZ85: string): boolean {
    return this.state.has(publicKeyZ85);
  }

  /**
   * Tells the store a handshake with this key was accepted (the ZAP handler calls it on every
   * 200). When it is the current key of a name that has retiring keys, its successor has
   * connected: the retiring keys move to `revoked/` (and their connections are cut by whoever
   * follows {@link watch}). Cheap when nothing is retiring. Problems go to `onError`.
   * @returns the keys it revoked.
   */
  admitted(publicKeyZ85: string): Promise<StoredKey[]> {
    if (!this.state.hasRetiring() || this.closed) return Promise.resolve([]);
    const key = this.state.findByPublicKey(publicKeyZ85);
    if (!key || this.state.retiringOf(key.name).length === 0) return Promise.resolve([]);
    return this.enqueue(async () => {
      if (this.closed) return [];
      const moved: StoredKey[] = [];
      // Still the current key of that name once it is our turn (a revoke may have run).
      if (this.state.get(key.name)?.publicKey !== publicKeyZ85) return moved;
      try {
        for (const old of this.state.retiringOf(key.name)) moved.push(await this.moves.retire(old));
      } finally {
        this.deliver();
      }
      return moved;
    }).catch((error: unknown) => {
      this.reportError(error);
      return [];
    });
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
   * denies its public key from now on, even if a copy reappears in `public_keys/`; the
   * retiring keys of that name are revoked with it.
   * @returns the key as it now lies in `revoked/` (the allowed one when there was one).
   * @throws {InvalidKeyNameError} {@link KeyNotFoundError} (neither allowed nor retiring)
   *   {@link KeyFileError}
   */
  async revoke(name: string): Promise<StoredKey> {
    const [first] = await this.revokeAll(name);
    if (!first) throw new KeyNotFoundError(name, this.layout.publicKeysDir);
    return first;
  }

  /**
   * {@link revoke}, returning every key it moved: the allowed one first, then the retiring ones.
   * @throws {InvalidKeyNameError} {@link KeyNotFoundError} {@link KeyFileError}
   */
  async revokeAll(name: string): Promise<StoredKey[]> {
    assertKeyName(name);
    return this.enqueue(async () => {
      this.assertOpen();
      const moved: StoredKey[] = [];
      const current = await this.moves.revokePublic(name);
      if (current) moved.push(current);
      // What is on disk now, not only what the last scan saw.
      await this.sync.scanDirectory(this.layout.retiringDir);
      for (const old of this.state.retiringOf(name)) moved.push(await this.moves.retire(old));
      this.deliver();
      if (moved.length === 0) throw new KeyNotFoundError(name, this.layout.publicKeysDir);
      return moved;
    });
  }

  /**
   * Replaces the key of `name` with `publicKeyZ85` without cutting the system off: the old
   * `public_keys/<name>.key` is kept as `retiring/<name>.<deadline>.key` (0644, the same
   * certificate) and stays allowed until the new key first completes a handshake (see
   * {@link admitted}) or `overlapMs` runs out, then moves to `revoked/`. With `overlapMs` 0
   * the old key, and any key of the name still retiring, goes to `revoked/` at once. Without
   * an old key it is {@link add}.
   * @throws {InvalidKeyNameError} {@link Z85Error} {@link KeyRevokedError} {@link KeyFileError}
   *   {@link KeyError} (a bad overlap, or the new key is the one already allowed)
   */
  async reissue(
    name: string,
    publicKeyZ85: string,
    options: ReissueOptions,
  ): Promise<ReissueResult> {
    assertKeyName(name);
    decodeCurveKey(publicKeyZ85, "public key");
    const overlapMs = options.overlapMs;
    if (!Number.isFinite(overlapMs) || overlapMs < 0) {
      throw new KeyError(`reissue overlapMs must be a number >= 0; got ${String(overlapMs)}`);
    }
    const text = formatCertificate({ publicKey: publicKeyZ85, metadata: options.metadata ?? {} });
    return this.enqueue(async () => {
      this.assertOpen();
      const revokedAs = this.state.revokedFileOf(publicKeyZ85);
      if (revokedAs) throw new KeyRevokedError(publicKeyZ85, revokedAs.path);
      const path = join(this.layout.publicKeysDir, `${name}.key`);
      const old = await this.moves.readOptional(path);
      if (old?.publicKey === publicKeyZ85) {
        throw new KeyError(`${path} already holds public key ${publicKeyZ85}; nothing to re-issue`);
      }
      let retiring: RetiringKey | undefined;
      const revoked: StoredKey[] = [];
      if (overlapMs === 0) {
        // Replace at once: nothing of the old keys stays allowed (a lost or stolen key).
        const current = old ? await this.moves.revokePublic(name) : undefined;
        if (current) revoked.push(current);
        for (const key of this.state.retiringOf(name)) revoked.push(await this.moves.retire(key));
      } else if (old) {
        retiring = await this.moves.keepRetiring(name, old.publicKey, old.bytes, overlapMs);
      }
      try {
        await writeFileAtomic(path, text, { mode: PUBLIC_FILE_MODE, overwrite: true });
      } catch (error) {
        // The old key stays the allowed one: take its retiring copy back out.
        if (retiring) {
          await fs.rm(retiring.path, { force: true });
          this.cache.forget(retiring.path);
          this.state.setRetiring(retiring.path, undefined);
        }
        this.deliver();
        throw fileError(path, "write certificate", error);
      }
      await this.cache.remember(path, publicKeyZ85);
      const key: StoredKey = { name, publicKey: publicKeyZ85, path };
      this.state.clearFileProblem(path);
      this.state.setPublic(name, key);
      this.deliver();
      return { key, revoked, ...(retiring ? { retiring } : {}) };
    });
  }

  /** Moves every retiring key whose deadline has passed to `revoked/`; returns them. */
  async retireExpired(): Promise<StoredKey[]> {
    return this.enqueue(async () => {
      if (this.closed) return [];
      const now = Date.now();
      this.state.expire(now);
      const moved: StoredKey[] = [];
      for (const key of this.state.listRetiring()) {
        if (key.deadline.getTime() > now) continue;
        // Denied already (expire above); a file that cannot be moved is reported, not fatal.
        try {
          moved.push(await this.moves.retire(key));
        } catch (error) {
          this.reportError(error);
        }
      }
      this.deliver();
      return moved;
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
    clearTimeout(this.deadlineTimer);
    this.listeners.clear();
    await this.queue.catch(() => undefined);
  }

  /**
   * Makes `retiring/` (added after the seed's layout). A reader that may not write the
   * certificates tree (a monitoring user running `osad2-server status` on a tree from before
   * `retiring/`) opens it without: nothing is retiring there, and scans see it missing.
   */
  private async ensureRetiringDir(): Promise<boolean> {
    const dir = this.layout.retiringDir;
    if (await pathExists(dir)) return true;
    try {
      await ensureDirectory(dir, PUBLIC_DIR_MODE);
    } catch (error) {
      const code = error instanceof KeyFileError ? error.code : undefined;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") return false;
      throw error;
    }
    // Made by a root packager: the server (its own user) must move keys out of it.
    await matchOwner(dir, this.layout.revokedDir);
    return true;
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

  // Revoked first, so a revoked key lying in public_keys/ is never announced as added; then
  // retiring, so a key re-issued since is never announced as removed.
  private async fullScan(): Promise<void> {
    const started = Date.now();
    for (const dir of this.scanOrder()) await this.sync.scanDirectory(dir);
    this.lastFullScan = Date.now();
    this.lastFullScanMs = this.lastFullScan - started;
    this.deliver();
  }

  private async handleChanges(batch: Map<string, ChangedNames>): Promise<void> {
    await this.enqueue(async () => {
      if (this.closed) return;
      // In the order of a full scan. A change in public_keys/ may be a re-issue whose
      // retiring/ event is not here yet: look at retiring/ (small) first.
      if (batch.has(this.layout.publicKeysDir) && !batch.has(this.layout.retiringDir)) {
        batch.set(this.layout.retiringDir, "all");
      }
      for (const dir of this.scanOrder()) {
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
      let fresh =
        Date.now() - this.lastFullScan <
        fullScanInterval(this.options.fullScanIntervalMs, this.lastFullScanMs);
      for (const dir of this.scanOrder()) {
        const ino = await fs.stat(dir).then(
          (stat) => stat.ino,
          () => undefined,
        );
        // Still no retiring/ (a tree from before it): nothing to watch, nothing missed.
        if (
          dir === this.layout.retiringDir &&
          ino === undefined &&
          this.sync.inodes.get(dir) === undefined
        )
          continue;
        // Replaced, removed or unwatched: fs.watch cannot be trusted for this directory.
        if (ino !== this.sync.inodes.get(dir) || !this.monitor.isWatching(dir, ino)) fresh = false;
      }
      if (!fresh) await this.fullScan();
    })
      .then(() => (this.state.hasRetiring() ? this.retireExpired() : undefined))
      .catch((error: unknown) => this.reportError(error));
  }

  private scanOrder(): string[] {
    return [this.layout.revokedDir, this.layout.retiringDir, this.layout.publicKeysDir];
  }

  // A polling store moves a retiring key out at its deadline, even if nobody connects.
  private armDeadline(): void {
    if (this.closed || this.options.pollIntervalMs <= 0) return;
    const next = this.state.nextDeadline()?.getTime();
    if (next === this.armedDeadline) return;
    clearTimeout(this.deadlineTimer);
    this.armedDeadline = next;
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - Date.now()), MAX_TIMER_MS);
    this.deadlineTimer = setTimeout(() => {
      this.armedDeadline = undefined;
      void this.retireExpired()
        .catch((error: unknown) => this.reportError(error))
        .finally(() => this.armDeadline());
    }, delay);
    this.deadlineTimer.unref();
  }

  // Hands queued changes to listeners and new problems to onError.
  private deliver(): void {
    this.armDeadline();
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
