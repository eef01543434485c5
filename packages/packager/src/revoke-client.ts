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
 * Withdraws a client's access: its public key moves from public_keys/ to revoked/ (kept, never
 * deleted). A running server sees the change within seconds and cuts the client off; the same
 * key can never be added again. Unknown names throw KeyNotFoundError from @osad2/keys.
 */
export async function revokeClient(options: RevokeClientOptions): Promise<StoredKey> {
  const name = validateClientName(options.name);
  const certificates = options.certificates ?? DEFAULT_SERVER_CERTIFICATES_DIR;
  // A mistyped --certificates must not get an empty key store created in it.
  const serverKey = certificateLayout(certificates).serverPublicPath;
  await access(serverKey).catch((error: unknown) => {
    throw new MissingServerKeyError(serverKey, "does not exist", { cause: error });
  });
  // One-shot use: no watching or polling.
  const store = await KeyStore.open(certificates, {
    pollIntervalMs: 0,
    fsWatch: false,
  });
  try {
    return await store.revoke(name);
  } finally {
    await store.close();
  }
}
