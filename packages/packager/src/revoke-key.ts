import { KeyStore, certificateLayout, type StoredKey } from "@osad2/keys";
import { AmbiguousKeyNameError, NoSuchKeyError } from "./errors.js";
import { pathExists } from "./fs-util.js";
import type { KeyKind } from "./keys-list.js";
import { DEFAULT_SERVER_CERTIFICATES_DIR, validateClientName } from "./options.js";
import { openProxyStore } from "./proxy-keys.js";
import { assertCertificatesDir } from "./revoke-client.js";

/** Options of {@link revokeKey}. */
export interface RevokeKeyOptions {
  /** The name given to createclient or createproxy. */
  readonly name: string;
  /** The server's certificates directory. Default {@link DEFAULT_SERVER_CERTIFICATES_DIR}. */
  readonly certificates?: string;
  /** Whose key; default: whichever holds the name (both: {@link AmbiguousKeyNameError}). */
  readonly kind?: KeyKind;
}

/** What {@link revokeKey} did. */
export interface RevokedKey {
  readonly kind: KeyKind;
  /** Every key moved, as it now lies in revoked/: the allowed one first, then retiring ones. */
  readonly keys: readonly StoredKey[];
}

/**
 * `keys revoke NAME`: withdraws a client's or a proxy's access. The key (and any retiring key of
 * the name) moves to revoked/; a running server cuts a client off, or drops a proxy's link and
 * every system behind it, within seconds.
 * @throws {NoSuchKeyError} neither list holds the name; {@link AmbiguousKeyNameError} both do
 *   and `kind` does not say which.
 */
export async function revokeKey(options: RevokeKeyOptions): Promise<RevokedKey> {
  const name = validateClientName(options.name);
  const certificates = options.certificates ?? DEFAULT_SERVER_CERTIFICATES_DIR;
  await assertCertificatesDir(certificates);
  const clients = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
  // A server without proxies/ has no proxy to revoke: do not create one.
  const proxies = (await pathExists(certificateLayout(certificates).proxiesDir))
    ? await openProxyStore(certificates)
    : undefined;
  try {
    const held = (store: KeyStore | undefined): boolean =>
      store !== undefined &&
      (store.get(name) !== undefined || store.listRetiring().some((key) => key.name === name));
    const found: KeyKind[] = [
      ...(held(clients) ? (["client"] as const) : []),
      ...(held(proxies) ? (["proxy"] as const) : []),
    ];
    const kind = options.kind ?? found[0];
    if (options.kind === undefined && found.length > 1) throw new AmbiguousKeyNameError(name);
    if (kind === undefined || !found.includes(kind)) {
      const where =
        options.kind === "proxy"
          ? "no allowed proxy of that name in proxies/"
          : options.kind === "client"
            ? "no allowed client of that name in public_keys/ or retiring/"
            : "neither a client (public_keys/, retiring/) nor a proxy (proxies/) of that name is allowed";
      throw new NoSuchKeyError(name, `${where} in ${certificateLayout(certificates).root}`);
    }
    const store = kind === "client" ? clients : proxies;
    // found includes kind, so its store is open.
    return { kind, keys: await (store as KeyStore).revokeAll(name) };
  } finally {
    await clients.close();
    await proxies?.close();
  }
}
