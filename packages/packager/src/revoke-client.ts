import { access } from "node:fs/promises";
import { certificateLayout, KeyStore, type StoredKey } from "@osad2/keys";
import { MissingServerKeyError } from "./errors.js";
import { DEFAULT_SERVER_CERTIFICATES_DIR, validateClientName } from "./options.js";

/** Options of {@link revokeClient}. */
export interface RevokeClientOptions {
  /** The name given to createclient. */
  readonly name: string;
  /** The server's certificates directory. Default {@link DEFAULT_SERVER_CERTIFICATES_DIR}. */
  readonly certificates?: string;
}

/**
 * Withdraws a client's access (`keys revoke NAME`, and `revokeclient --name NAME`): its public
 * key moves from public_keys/ to revoked/ (kept, never deleted), and so do the keys of that name
 * still retiring after a re-issue. A running server sees the change within seconds and cuts the
 * client off; the same keys can never be added again. Unknown names throw KeyNotFoundError from
 * @osad2/keys.
 * @returns every key moved, as it now lies in revoked/: the allowed one first.
 */
export async function revokeClient(options: RevokeClientOptions): Promise<StoredKey[]> {
  const name = validateClientName(options.name);
  const certificates = options.certificates ?? DEFAULT_SERVER_CERTIFICATES_DIR;
  await assertCertificatesDir(certificates);
  // One-shot use: no watching or polling.
  const store = await KeyStore.open(certificates, {
    pollIntervalMs: 0,
    fsWatch: false,
  });
  try {
    return await store.revokeAll(name);
  } finally {
    await store.close();
  }
}

/**
 * A mistyped --certificates must not get an empty key store created in it: the directory must
 * hold the server's public key.
 * @throws {MissingServerKeyError}
 */
export async function assertCertificatesDir(certificates: string): Promise<void> {
  const serverKey = certificateLayout(certificates).serverPublicPath;
  await access(serverKey).catch((error: unknown) => {
    throw new MissingServerKeyError(serverKey, "does not exist", { cause: error });
  });
}
