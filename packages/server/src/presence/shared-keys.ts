import type { SpacewalkStore } from "../db/types.js";

/** Where push clients' shared keys come from (rhnPushClient.shared_key): the store, many at once. */
export type SharedKeySource = Pick<SpacewalkStore, "sharedKeysOf">;

/** Default of {@link SharedKeyCacheOptions.ttlMs}: 15 minutes. */
export const DEFAULT_KEY_TTL_MS = 900_000;

/** Options of {@link SharedKeyCache}. */
export interface SharedKeyCacheOptions {
  readonly source: SharedKeySource;
  /**
   * A key found is trusted this long (plus up to 25 % at random, so entries read together do
   * not all expire in the same ping round) before it is read again. Long, because what
   * changes keys is noticed sooner: this server's register_osad drops both names at once
   * (ManagingRegistrationStore), and a key that fails a signature is read again (at most
   * once per {@link missTtlMs}). What only the TTL notices is a client renamed by another
   * server's register_osad: its old name's key still verifies that long. Default 15 min.
   */
  readonly ttlMs?: number;
  /**
   * "No such client" is remembered this long, and a found key is read again after a failed
   * signature at most this often: a flood of made-up names or bad signatures costs one
   * lookup per name per window, batched with the others. Default 5 s.
   */
  readonly missTtlMs?: number;
  /** Names read in one statement at most. Default 1,000. */
  readonly batchSize?: number;
  /** Statements in flight at most; more names wait for the next batch. Default 2. */
  readonly concurrency?: number;
  /** Names waiting at most; beyond it a lookup fails at once as `busy`. Default 50,000. */
  readonly maxWaiting?: number;
  /** Names remembered at most (oldest forgotten first). Default 200,000. */
  readonly maxEntries?: number;
  /** A batch could not be read (its names were answered `busy`); told once per statement. */
  readonly readFailed?: (error: unknown, names: number) => void;
  readonly now?: () => number;
  /** Random number in [0, 1) for the TTL's jitter. Default Math.random. */
  readonly random?: () => number;
}

/** The answer of {@link SharedKeyCache.lookup}. */
export type SharedKeyLookup =
  | { readonly found: true; readonly key: string }
  | { readonly found: false; readonly busy: boolean };

interface Entry {
  readonly key: string | undefined;
  /** Trusted until then. */
  readonly until: number;
  /** When it was read: a fresh read is not repeated within missTtlMs of it. */
  readonly readAt: number;
}

/** One name's lookup, waiting for its batch or in one. */
interface Pending {
  readonly promise: Promise<SharedKeyLookup>;
  readonly resolve: (lookup: SharedKeyLookup) => void;
}

const BUSY: SharedKeyLookup = { found: false, busy: true };
const MISSING: SharedKeyLookup = { found: false, busy: false };

function answer(entry: Entry): SharedKeyLookup {
  return entry.key === undefined ? MISSING : { found: true, key: entry.key };
}

/**
 * Shared keys by client name, cached: every hello and pong is verified, and 18,000 clients
 * answer every ping round within a second of each other. Names not cached are read in
 * batches (one statement for up to {@link SharedKeyCacheOptions.batchSize} names), so a
 * reconnecting fleet costs a few dozen statements rather than one per client; lookups are
 * single-flight per name and the names waiting are bounded, so a peer sending made-up names
 * cannot queue unbounded database work.
 */
export class SharedKeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Names waiting for a batch, in arrival order. */
  private readonly queued = new Map<string, Pending>();
  /** Names in a batch being read. */
  private readonly reading = new Map<string, Pending>();
  private active = 0;
  private scheduled = false;

  constructor(private readonly options: SharedKeyCacheOptions) {}

  /**
   * The key of this name. `fresh` (after a failed signature) reads it again unless it was
   * read within missTtlMs: a changed key is picked up, a forger cannot make every message a read.
   */
  lookup(clientName: string, fresh = false): Promise<SharedKeyLookup> {
    const now = this.now();
    const cached = this.entries.get(clientName);
    if (cached !== undefined && cached.until > now) {
      const recent = now - cached.readAt < (this.options.missTtlMs ?? 5_000);
      if (!fresh || recent) return Promise.resolve(answer(cached));
    }
    const pending = this.queued.get(clientName) ?? this.reading.get(clientName);
    if (pending !== undefined) return pending.promise;
    if (this.queued.size >= (this.options.maxWaiting ?? 50_000)) return Promise.resolve(BUSY);
    let resolve!: (lookup: SharedKeyLookup) => void;
    const promise = new Promise<SharedKeyLookup>((r) => (resolve = r));
    this.queued.set(clientName, { promise, resolve });
    this.schedule();
    return promise;
  }

  /**
   * The cached answer for this name while it is trusted, else undefined (then {@link lookup}).
   * No promise: 18,000 pongs a ping round are checked without a microtask and a closure each.
   */
  cached(clientName: string): SharedKeyLookup | undefined {
    const cached = this.entries.get(clientName);
    return cached !== undefined && cached.until > this.now() ? answer(cached) : undefined;
  }

  /** Forgets a name (registered anew: the next message reads its key again). */
  forget(clientName: string): void {
    this.entries.delete(clientName);
  }

  /** Names cached (for diagnostics and tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Batches start on the next turn of the event loop, so a burst of pongs shares statements. */
  private schedule(): void {
    if (this.scheduled || this.queued.size === 0) return;
    if (this.active >= (this.options.concurrency ?? 2)) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const max = this.options.batchSize ?? 1_000;
    while (this.queued.size > 0 && this.active < (this.options.concurrency ?? 2)) {
      const batch = new Map<string, Pending>();
      for (const [name, pending] of this.queued) {
        batch.set(name, pending);
        this.reading.set(name, pending);
        this.queued.delete(name);
        if (batch.size >= max) break;
      }
      this.active += 1;
      void this.read(batch).finally(() => {
        this.active -= 1;
        this.schedule();
      });
    }
  }

  private async read(batch: Map<string, Pending>): Promise<void> {
    let keys: Map<string, string>;
    try {
      keys = await this.options.source.sharedKeysOf([...batch.keys()]);
    } catch (error) {
      // The database failed: these names are refused as busy (their clients are told to ask
      // again later); nothing is remembered.
      this.options.readFailed?.(error, batch.size);
      for (const [name, pending] of batch) {
        this.reading.delete(name);
        pending.resolve(BUSY);
      }
      return;
    }
    const now = this.now();
    const ttl = this.options.ttlMs ?? DEFAULT_KEY_TTL_MS;
    const missTtl = this.options.missTtlMs ?? 5_000;
    const random = this.options.random ?? Math.random;
    for (const [name, pending] of batch) {
      this.reading.delete(name);
      const key = keys.get(name);
      const until = now + (key === undefined ? missTtl : ttl + Math.floor(random() * ttl * 0.25));
      this.remember(name, { key, until, readAt: now });
      pending.resolve(key === undefined ? MISSING : { found: true, key });
    }
  }

  private remember(clientName: string, entry: Entry): void {
    this.entries.delete(clientName);
    this.entries.set(clientName, entry);
    const max = this.options.maxEntries ?? 200_000;
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
