import type { KeyKind } from "@osad2/protocol";

/** How long decisions are remembered and how long a question may wait. */
export interface AdmissionTimings {
  /** An allowed key is let in without asking again for this long. Default 60 s. */
  readonly allowTtlMs?: number;
  /** A refused key is refused without asking again for this long (a key added since is seen soon). Default 2 s. */
  readonly denyTtlMs?: number;
  /**
   * No answer from the parent within this: refuse (the client retries, backing off up to a
   * minute). Default 10 s: inside libzmq's 30 s handshake interval, and longer than the
   * server's event loop stalls while 18,000 clients connect (3.2 s measured by
   * `tools/bench proxy`, where a 3 s limit refused 636 of them).
   */
  readonly answerTimeoutMs?: number;
  /**
   * While the link is down a handshake waits this long for it to come back before it is
   * refused. Default 20 s: inside libzmq's 30 s handshake interval, so a client that connects
   * while the proxy restarts or its parent is away gets in as soon as the link is back
   * (a refused client backs off up to a minute).
   */
  readonly linkWaitMs?: number;
}

/** Sends `admit?` upstream; false when the link is down (then the key is refused). */
export interface AdmitQuestionSender {
  ask(query: string, keyKind: KeyKind, publicKey: string): boolean;
}

interface Cached {
  readonly allow: boolean;
  readonly until: number;
}

interface Held {
  readonly keyKind: KeyKind;
  readonly publicKey: string;
  readonly resolve: (allow: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

interface Pending {
  readonly key: string;
  readonly waiters: ((allow: boolean) => void)[];
  readonly timer: NodeJS.Timeout;
}

const QUERY_LIMIT = 0xffff_ffff;

/**
 * Decides whether a key may connect by asking the parent (who asks the server's allow-list),
 * remembering answers for a short while. Questions for the same key while one is out share
 * its answer. Nothing is known while the link is down: every question waits for it (up to
 * linkWaitMs, then the key is refused) — even a remembered key, which would otherwise connect
 * to a proxy that cannot carry its hello. `revoked` forgets a key at once; a new link session
 * forgets everything (a revocation may have been missed while the link was down).
 */
export class AdmissionCache {
  private readonly cache = new Map<string, Cached>();
  private readonly pending = new Map<string, Pending>();
  private readonly byKey = new Map<string, string>();
  private readonly held = new Set<Held>();
  private up = false;
  private nextQuery = 1;
  private readonly allowTtlMs: number;
  private readonly denyTtlMs: number;
  private readonly answerTimeoutMs: number;
  private readonly linkWaitMs: number;

  constructor(
    private readonly sender: AdmitQuestionSender,
    timings: AdmissionTimings = {},
    private readonly now: () => number = Date.now,
  ) {
    this.allowTtlMs = timings.allowTtlMs ?? 60_000;
    this.denyTtlMs = timings.denyTtlMs ?? 2_000;
    this.answerTimeoutMs = timings.answerTimeoutMs ?? 10_000;
    this.linkWaitMs = timings.linkWaitMs ?? 20_000;
  }

  /** Resolves true when the key may connect. Never rejects. */
  decide(keyKind: KeyKind, publicKey: string): Promise<boolean> {
    if (!this.up) {
      return new Promise((resolve) => {
        const held: Held = {
          keyKind,
          publicKey,
          resolve,
          timer: setTimeout(() => {
            this.held.delete(held);
            resolve(false);
          }, this.linkWaitMs),
        };
        this.held.add(held);
      });
    }
    const key = `${keyKind} ${publicKey}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      if (cached.until > this.now()) return Promise.resolve(cached.allow);
      this.cache.delete(key);
    }
    const out = this.byKey.get(key);
    const waiting = out === undefined ? undefined : this.pending.get(out);
    if (waiting !== undefined) return new Promise((resolve) => waiting.waiters.push(resolve));
    const query = String(this.nextQuery);
    this.nextQuery = this.nextQuery >= QUERY_LIMIT ? 1 : this.nextQuery + 1;
    if (!this.sender.ask(query, keyKind, publicKey)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(query, false, false), this.answerTimeoutMs);
      this.pending.set(query, { key, waiters: [resolve], timer });
      this.byKey.set(key, query);
    });
  }

  /** The parent's `admit` for `query`. Unknown queries (late, after a timeout) are ignored. */
  answered(query: string, allow: boolean): void {
    this.settle(query, allow, true);
  }

  /** `revoked`: forget the key (a refusal is not cached: it may be re-added). */
  revoked(keyKind: KeyKind, publicKey: string): void {
    this.cache.delete(`${keyKind} ${publicKey}`);
  }

  /** A new link session: forget every decision, and ask the questions that waited for it. */
  linkUp(): void {
    this.cache.clear();
    this.up = true;
    for (const held of [...this.held]) {
      this.held.delete(held);
      clearTimeout(held.timer);
      void this.decide(held.keyKind, held.publicKey).then(held.resolve);
    }
  }

  /** The link went down: questions out will not be answered; refuse them now, hold new ones. */
  linkDown(): void {
    this.up = false;
    for (const query of [...this.pending.keys()]) this.settle(query, false, false);
  }

  /** Questions waiting for the link (status, tests). */
  get waiting(): number {
    return this.held.size;
  }

  /** How many decisions are remembered (metrics, tests). */
  get size(): number {
    return this.cache.size;
  }

  private settle(query: string, allow: boolean, remember: boolean): void {
    const entry = this.pending.get(query);
    if (entry === undefined) return;
    this.pending.delete(query);
    this.byKey.delete(entry.key);
    clearTimeout(entry.timer);
    if (remember) {
      const ttl = allow ? this.allowTtlMs : this.denyTtlMs;
      this.cache.set(entry.key, { allow, until: this.now() + ttl });
    }
    for (const resolve of entry.waiters) resolve(allow);
  }
}
