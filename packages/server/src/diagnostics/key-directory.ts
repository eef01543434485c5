import type { KeyStore } from "@osad2/keys";
import type { KeyDirectory, KeyFile, KeyNames } from "./ports.js";

/** The key store seen as names and files: allowed keys first, then revoked/. */
export class KeyStoreDirectory implements KeyDirectory, KeyNames {
  constructor(private readonly store: Pick<KeyStore, "get" | "findByPublicKey" | "listRevoked">) {}

  byName(name: string): KeyFile | undefined {
    const allowed = this.store.get(name);
    if (allowed !== undefined) return { ...allowed, revoked: false };
    const revoked = this.store.listRevoked().find((key) => key.name === name);
    return revoked === undefined ? undefined : { ...revoked, revoked: true };
  }

  byPublicKey(publicKeyZ85: string): KeyFile | undefined {
    const allowed = this.store.findByPublicKey(publicKeyZ85);
    if (allowed !== undefined) return { ...allowed, revoked: false };
    const revoked = this.store.listRevoked().find((key) => key.publicKey === publicKeyZ85);
    return revoked === undefined ? undefined : { ...revoked, revoked: true };
  }

  nameOf(publicKeyZ85: string): string | null {
    return this.byPublicKey(publicKeyZ85)?.name ?? null;
  }
}
