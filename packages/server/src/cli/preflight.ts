import { access } from "node:fs/promises";
import { assertKeyDirectory, certificateLayout, KeyFileError, readKeyPair } from "@osad2/keys";
import { errnoCode } from "@osad2/service-kit";
import type { ServerConfig } from "../config/schema.js";

/** `run` cannot start: something only `osad2-server init` (or createserver) makes is missing. */
export class NotInitializedError extends Error {
  override readonly name = "NotInitializedError";
  /** The file that is missing. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/**
 * What `run` checks before it creates anything (log file, pidfile, database, key store
 * directories), so a start that cannot succeed leaves the disk as it was: the server key pair
 * must be there and readable. Reads only.
 * @throws {NotInitializedError} when it does not exist; the key package's errors when unusable.
 */
export async function assertStartable(config: ServerConfig): Promise<void> {
  const layout = certificateLayout(config.certificates);
  try {
    await access(layout.privateKeysDir);
    // As the key store checks it at start: whoever may write there may swap the secret.
    await assertKeyDirectory(layout.privateKeysDir, "the server's secret key");
    await readKeyPair(layout.serverSecretPath);
  } catch (error) {
    const code = error instanceof KeyFileError ? error.code : errnoCode(error);
    if (code !== "ENOENT") throw error;
    throw new NotInitializedError(
      layout.serverSecretPath,
      `no server key pair: ${layout.serverSecretPath} does not exist — run \`osad2-server init\` with this config (or osad2-packager createserver), or set certificates to the directory holding private_keys/; nothing was created`,
      { cause: error },
    );
  }
}
