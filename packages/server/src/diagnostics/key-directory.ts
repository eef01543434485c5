import type { KeyStore } from "@osad2/keys";
import type { KeyDirectory, KeyFile, KeyNames } from "./ports.js";

/** The key store seen as names and files: allowed keys first, then retiring/, then revoked/. */
export class KeyStoreDirectory implements KeyDirectory, KeyNames {
  constructor(
    private readonly store: Pick<
      KeyStore,
      "get" | "findByPublicKey" | "listRevoked" | "listRetiring"
    >,
    private readonly now: () => number = Date.now,
  ) {}

  byName(name: string): KeyFile | undefined {
    const allowed = this.store.get(name);
    if (allowed !== undefined) return { ...allowed, revoked: false };
    return this.retiring((key) => key.name === name) ?? this.revoked((key) => key.name === name);
  }

  byPublicKey(publicKeyZ85: string): KeyFile | undefined {
    const allowed = this.store.findByPublicKey(publicKeyZ85);
    if (allowed !== undefined) return { ...allowed, revoked: false };
    const match = (key: { publicKey: string }): boolean => key.publicKey === publicKeyZ85;
    return this.retiring(match) ?? this.revoked(match);
  }

  nameOf(publicKeyZ85: string): string | null {
    return this.byPublicKey(publicKeyZ85)?.name ?? null;
  }

  /** A re-issued key still allowed until its deadline (past it, it is as good as revoked). */
  private retiring(
    match: (key: { name: string; publicKey: string }) => boolean,
  ): KeyFile | undefined {
    const key = this.store.listRetiring().find(match);
    if (key === undefined) return undefined;
    return {
      name: key.name,
      publicKey: key.publicKey,
      path: key.path,
      revoked: key.deadline.getTime() <= this.now(),
      retiringUntil: key.deadline.toISOString(),
    };
  }

  private revoked(
    match: (key: { name: string; publicKey: string }) => boolean,
  ): KeyFile | undefined {
    const key = this.store.listRevoked().find(match);
    return key === undefined ? undefined : { ...key, revoked: true };
  }
}
