import type { SpacewalkStore } from "../db/types.js";

/** Where push clients' shared keys come from (rhnPushClient.shared_key): the store. */
export type SharedKeySource = Pick<SpacewalkStore, "sharedKeyOf">;

/** Options of {@link SharedKeyCache}. */
export interface SharedKeyCacheOptions {
  readonly source: SharedKeySource;
  /**
   * A key found is trusted this long before it is read again: a re-registration elsewhere
   * (new name, old name gone) is noticed within this time. Default 20 s.
   */
  readonly ttlMs?: number;
  /** "No such client" is remembered this long (a flood of made-up names costs one query each per window). Default 5 s. */
  readonly missTtlMs?: number;
  /** Lookups in flight at most; more wait. Default 4. */
  readonly concurrency?: number;
  /** Lookups waiting at most; beyond it a lookup fails at once as `busy`. Default 2,000. */
  readonly maxWaiting?: number;
  /** Names remembered at most (oldest forgotten first). Default 200,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/** The answer of {@link SharedKeyCache.lookup}. */
export type SharedKeyLookup =
  | { readonly found: true; readonly key: string }
  | { readonly found: false; readonly busy: boolean };

interface Entry {
  readonly key: string | undefined;
  readonly until: number;
}

/**
 * Shared keys by client name, cached: every pong is verified, and 10,000 clients answer every
 * ping interval. Lookups are single-flight per name and bounded, so a peer sending made-up
 * names cannot queue unbounded database work.
 */
export class SharedKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<SharedKeyLookup>>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;

  constructor(private readonly options: SharedKeyCacheOptions) {}

  /** The key of this name; `fresh` reads it from the database even when cached. */
  lookup(clientName: string, fresh = false): Promise<SharedKeyLookup> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.entries.get(clientName);
    if (!fresh && cached !== undefined && cached.until > now) {
      return Promise.resolve(
        cached.key === undefined ? { found: false, busy: false } : { found: true, key: cached.key },
      );
    }
    const pending = this.inFlight.get(clientName);
    if (pending !== undefined) return pending;
    if (this.waiting.length >= (this.options.maxWaiting ?? 2_000)) {
      return Promise.resolve({ found: false, busy: true });
    }
    const lookup = this.read(clientName).finally(() => this.inFlight.delete(clientName));
    this.inFlight.set(clientName, lookup);
    return lookup;
  }

  /** Forgets a name (its key failed a signature: the next message reads it again). */
  forget(clientName: string): void {
    this.entries.delete(clientName);
  }

  private async read(clientName: string): Promise<SharedKeyLookup> {
    await this.slot();
    try {
      const key = await this.options.source.sharedKeyOf(clientName);
      const now = (this.options.now ?? Date.now)();
      const ttl =
        key === undefined ? (this.options.missTtlMs ?? 5_000) : (this.options.ttlMs ?? 20_000);
      this.remember(clientName, { key, until: now + ttl });
      return key === undefined ? { found: false, busy: false } : { found: true, key };
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }

  private slot(): Promise<void> {
    if (this.active < (this.options.concurrency ?? 4)) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.active += 1;
        resolve();
      }),
    );
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
}
