/**
 * The key store's in-memory model, pure and synchronous: which certificate files exist in
 * `public_keys/`, `retiring/` and `revoked/`, the allow-list derived from them, and the
 * problems found.
 * Every update is incremental (ten thousand keys, one changed file: one small update) and
 * queues the resulting changes and new problems for the store to deliver.
 */
import { KeyRevokedError, type KeyError } from "./errors.js";

/** One allowed (or revoked) public key. */
export interface StoredKey {
  /** File name without `.key` (for revoked keys: the name it had before revocation). */
  readonly name: string;
  /** Z85, 40 characters. */
  readonly publicKey: string;
  /** The certificate file. */
  readonly path: string;
}

/** A re-issued client's old key in `retiring/`: allowed until its successor connects or `deadline`. */
export interface RetiringKey extends StoredKey {
  /** When it stops being allowed (from its file name `<name>.<deadline>.key`). */
  readonly deadline: Date;
}

/**
 * What a watch listener hears. A key replaced under the same name is `removed` then `added`;
 * re-issued with an overlap, the old key is `retiring` (still allowed, now from `retiring/`)
 * and `removed` once its successor connects or its deadline passes.
 */
export type KeyStoreChange =
  | { readonly type: "added"; readonly key: StoredKey }
  | { readonly type: "removed"; readonly key: StoredKey }
  | { readonly type: "retiring"; readonly key: RetiringKey };

function addTo(index: Map<string, Set<string>>, key: string, member: string): void {
  const set = index.get(key);
  if (set) set.add(member);
  else index.set(key, new Set([member]));
}

function removeFrom(index: Map<string, Set<string>>, key: string, member: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(member);
  if (set.size === 0) index.delete(key);
}

function byName(a: StoredKey, b: StoredKey): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export class KeyStoreState {
  private readonly publicFiles = new Map<string, StoredKey>(); // by name
  private readonly publicByKey = new Map<string, Set<string>>(); // public key → names
  private readonly revokedFiles = new Map<string, StoredKey>(); // by path
  private readonly revokedByKey = new Map<string, Set<string>>(); // public key → paths
  private readonly allowed = new Map<string, StoredKey>(); // by name
  private readonly allowedByKey = new Map<string, Set<string>>(); // public key → names
  private readonly retiringFiles = new Map<string, RetiringKey>(); // by path
  private readonly retiringByKey = new Map<string, Set<string>>(); // public key → paths
  private readonly retiringByName = new Map<string, Set<string>>(); // name → paths
  private readonly liveRetiring = new Set<string>(); // paths allowed as last announced
  private readonly problemsByPath = new Map<string, KeyError>();
  private sorted: StoredKey[] | undefined;
  private changes: KeyStoreChange[] = [];
  private newProblems: KeyError[] = [];

  /** Allowed now: in `public_keys/`, or in `retiring/` before its deadline; never revoked. */
  has(publicKey: string, now = Date.now()): boolean {
    if (this.allowedByKey.has(publicKey)) return true;
    const paths = this.retiringByKey.get(publicKey);
    if (!paths) return false;
    for (const path of paths) {
      const key = this.retiringFiles.get(path);
      if (key && this.isLive(key, now)) return true;
    }
    return false;
  }

  /** Every `retiring/` key, expired ones too (they are denied), by deadline. */
  listRetiring(): RetiringKey[] {
    return [...this.retiringFiles.values()].sort(
      (a, b) => a.deadline.getTime() - b.deadline.getTime() || (a.path < b.path ? -1 : 1),
    );
  }

  /** The `retiring/` keys of a name. */
  retiringOf(name: string): RetiringKey[] {
    const paths = this.retiringByName.get(name);
    if (!paths) return [];
    return [...paths].flatMap((path) => this.retiringFiles.get(path) ?? []);
  }

  /** True when `retiring/` holds anything (the admission hot path checks this first). */
  hasRetiring(): boolean {
    return this.retiringFiles.size > 0;
  }

  retiringPaths(): string[] {
    return [...this.retiringFiles.keys()];
  }

  /** The earliest deadline of a key still announced as allowed. */
  nextDeadline(): Date | undefined {
    let next: Date | undefined;
    for (const path of this.liveRetiring) {
      const deadline = this.retiringFiles.get(path)?.deadline;
      if (deadline && (next === undefined || deadline < next)) next = deadline;
    }
    return next;
  }

  /** Records what a `retiring/*.key` file holds now (`undefined`: gone or unreadable). */
  setRetiring(path: string, key: RetiringKey | undefined, now = Date.now()): void {
    const old = this.retiringFiles.get(path);
    if (old?.publicKey === key?.publicKey && old?.deadline.getTime() === key?.deadline.getTime())
      return;
    if (old) {
      removeFrom(this.retiringByKey, old.publicKey, path);
      removeFrom(this.retiringByName, old.name, path);
    }
    if (key) {
      this.retiringFiles.set(path, key);
      addTo(this.retiringByKey, key.publicKey, path);
      addTo(this.retiringByName, key.name, path);
    } else {
      this.retiringFiles.delete(path);
    }
    this.recomputeRetiring(path, old, now);
  }

  /** Announces the end of every retiring key whose deadline has passed; returns them. */
  expire(now = Date.now()): RetiringKey[] {
    const expired: RetiringKey[] = [];
    for (const path of [...this.liveRetiring]) {
      const key = this.retiringFiles.get(path);
      if (key && key.deadline.getTime() <= now) {
        expired.push(key);
        this.recomputeRetiring(path, key, now);
      }
    }
    return expired;
  }

  /** The allowed key holding `publicKey`; the first by name when several files hold it. */
  findByPublicKey(publicKey: string): StoredKey | undefined {
    const names = this.allowedByKey.get(publicKey);
    if (!names) return undefined;
    let first: string | undefined;
    for (const name of names) if (first === undefined || name < first) first = name;
    return first === undefined ? undefined : this.allowed.get(first);
  }

  get(name: string): StoredKey | undefined {
    return this.allowed.get(name);
  }

  list(): StoredKey[] {
    this.sorted ??= [...this.allowed.values()].sort(byName);
    return [...this.sorted];
  }

  listRevoked(): StoredKey[] {
    return [...this.revokedFiles.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** A revoked file holding this public key, if any. */
  revokedFileOf(publicKey: string): StoredKey | undefined {
    const paths = this.revokedByKey.get(publicKey);
    if (!paths) return undefined;
    for (const path of paths) return this.revokedFiles.get(path);
    return undefined;
  }

  /** True when the last read of this file (`public_keys/<name>.key`, or in revoked/ or retiring/) gave a key. */
  holdsKeyFrom(path: string, name: string): boolean {
    return (
      this.publicFiles.get(name)?.path === path ||
      this.revokedFiles.has(path) ||
      this.retiringFiles.has(path)
    );
  }

  publicNames(): string[] {
    return [...this.publicFiles.keys()];
  }

  revokedPaths(): string[] {
    return [...this.revokedFiles.keys()];
  }

  problems(): KeyError[] {
    return [...this.problemsByPath.values()];
  }

  problemPaths(): string[] {
    return [...this.problemsByPath.keys()];
  }

  /** Records what `public_keys/<name>.key` holds now (`undefined`: gone or unreadable). */
  setPublic(name: string, key: StoredKey | undefined): void {
    const old = this.publicFiles.get(name);
    if (old?.publicKey === key?.publicKey && old?.path === key?.path) return;
    if (old) removeFrom(this.publicByKey, old.publicKey, name);
    if (key) {
      this.publicFiles.set(name, key);
      addTo(this.publicByKey, key.publicKey, name);
    } else {
      this.publicFiles.delete(name);
    }
    this.recompute(name, old?.path);
  }

  /** Records what a `revoked/*.key` file holds now (`undefined`: gone or unreadable). */
  setRevoked(path: string, key: StoredKey | undefined): void {
    const old = this.revokedFiles.get(path);
    if (old?.publicKey === key?.publicKey) return;
    if (old) removeFrom(this.revokedByKey, old.publicKey, path);
    if (key) {
      this.revokedFiles.set(path, key);
      addTo(this.revokedByKey, key.publicKey, path);
    } else {
      this.revokedFiles.delete(path);
    }
    for (const publicKey of new Set([old?.publicKey, key?.publicKey])) {
      if (publicKey === undefined) continue;
      for (const name of [...(this.publicByKey.get(publicKey) ?? [])]) this.recompute(name);
      for (const path of [...(this.retiringByKey.get(publicKey) ?? [])]) {
        this.recomputeRetiring(path, this.retiringFiles.get(path));
      }
    }
  }

  /** Sets or clears the problem of a path; a problem not already known is queued for reporting. */
  setProblem(path: string, problem: KeyError | undefined): void {
    const old = this.problemsByPath.get(path);
    if (!problem) {
      this.problemsByPath.delete(path);
      return;
    }
    this.problemsByPath.set(path, problem);
    if (old?.name !== problem.name || old.message !== problem.message)
      this.newProblems.push(problem);
  }

  /** Clears a file's problem, except the revocation notice that {@link setPublic} keeps itself. */
  clearFileProblem(path: string): void {
    if (!(this.problemsByPath.get(path) instanceof KeyRevokedError))
      this.problemsByPath.delete(path);
  }

  /** Takes the changes and new problems queued since the last call. */
  drain(): { changes: KeyStoreChange[]; problems: KeyError[] } {
    const drained = { changes: this.changes, problems: this.newProblems };
    this.changes = [];
    this.newProblems = [];
    return drained;
  }

  // Derives whether `name` is allowed now and queues the difference.
  private recompute(name: string, previousPath?: string): void {
    const file = this.publicFiles.get(name);
    const revokedAs = file ? this.revokedFileOf(file.publicKey) : undefined;
    if (previousPath !== undefined && previousPath !== file?.path) {
      this.clearRevokedProblem(previousPath);
    }
    if (file) {
      if (revokedAs)
        this.setProblem(file.path, new KeyRevokedError(file.publicKey, revokedAs.path));
      else this.clearRevokedProblem(file.path);
    }
    const now = file && !revokedAs ? file : undefined;
    const old = this.allowed.get(name);
    if (old?.publicKey === now?.publicKey && old?.path === now?.path) return;
    this.sorted = undefined;
    if (old) {
      this.allowed.delete(name);
      removeFrom(this.allowedByKey, old.publicKey, name);
      // Moved to retiring/ (a re-issue): still allowed, so nobody is cut off.
      const retiring = this.allowedByKey.has(old.publicKey)
        ? undefined
        : this.liveRetiringOf(old.publicKey);
      this.changes.push(
        retiring ? { type: "retiring", key: retiring } : { type: "removed", key: old },
      );
    }
    if (now) {
      this.allowed.set(name, now);
      addTo(this.allowedByKey, now.publicKey, name);
      this.changes.push({ type: "added", key: now });
    }
  }

  // Whether a retiring file is allowed now; announces it only when the public key as a whole
  // starts or stops being allowed (public_keys/ may hold it too).
  private recomputeRetiring(
    path: string,
    previous: RetiringKey | undefined,
    now = Date.now(),
  ): void {
    const key = this.retiringFiles.get(path);
    const live = key !== undefined && this.isLive(key, now);
    const was = this.liveRetiring.has(path);
    if (live === was) return;
    if (live) {
      const allowedBefore =
        this.allowedByKey.has(key.publicKey) || this.liveRetiringOf(key.publicKey);
      this.liveRetiring.add(path);
      if (!allowedBefore) this.changes.push({ type: "added", key });
      return;
    }
    this.liveRetiring.delete(path);
    const gone = previous ?? key;
    if (gone && !this.allowedByKey.has(gone.publicKey) && !this.liveRetiringOf(gone.publicKey)) {
      this.changes.push({ type: "removed", key: gone });
    }
  }

  private isLive(key: RetiringKey, now: number): boolean {
    return key.deadline.getTime() > now && !this.revokedByKey.has(key.publicKey);
  }

  private liveRetiringOf(publicKey: string): RetiringKey | undefined {
    for (const path of this.retiringByKey.get(publicKey) ?? []) {
      if (this.liveRetiring.has(path)) return this.retiringFiles.get(path);
    }
    return undefined;
  }

  private clearRevokedProblem(path: string): void {
    if (this.problemsByPath.get(path) instanceof KeyRevokedError) this.problemsByPath.delete(path);
  }
}
