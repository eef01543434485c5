import { dirname } from "node:path";
import {
  assertKeyDirectory,
  KeyDirectoryPermissionError,
  KeyFileError,
  KeyPermissionError,
  readKeyPair,
  readPublicKey,
  type KeyPair,
} from "@osad2/keys";
import { KeyConfigError } from "./errors.js";
import { describeError } from "@osad2/service-kit";

/** The CURVE keys the client connects with. */
export interface ClientKeys {
  /** This system's key pair, from client_secret_key. */
  readonly clientKeyPair: KeyPair;
  /** The server's public key from server_public_key, or undefined when that file does not exist. */
  readonly serverPublicKey: string | undefined;
}

/**
 * Reads client_secret_key (must exist, be 0600 and hold a matching key pair) and
 * server_public_key (may be absent: the registration reply's key is used then).
 * @throws {KeyConfigError} whose message names the file and the fix.
 */
export async function loadClientKeys(paths: {
  readonly clientSecretKey: string;
  readonly serverPublicKey: string;
}): Promise<ClientKeys> {
  const clientKeyPair = await readClientKeyPair(paths.clientSecretKey);
  const serverPublicKey = await readServerPublicKey(paths.serverPublicKey);
  return { clientKeyPair, serverPublicKey };
}

async function readClientKeyPair(path: string): Promise<KeyPair> {
  try {
    // Whoever may write certs/ may swap this system's secret (or the server key beside it).
    await assertKeyDirectory(dirname(path), "this system's certificates").catch(
      (error: unknown) => {
        if (error instanceof KeyDirectoryPermissionError) throw error;
        // A missing directory is reported as the missing key file below.
      },
    );
    // readKeyPair also refuses a file whose public half does not belong to its secret half
    // (what the seed's createclient wrote).
    return await readKeyPair(path);
  } catch (error) {
    if (error instanceof KeyPermissionError || error instanceof KeyDirectoryPermissionError) {
      throw new KeyConfigError(path, "permissions", error.message, { cause: error });
    }
    if (error instanceof KeyFileError && error.code === "ENOENT") {
      throw new KeyConfigError(
        path,
        "missing",
        `client secret key ${path} not found: install this system's osad2 client package (osad2-packager createclient) or set client_secret_key`,
        { cause: error },
      );
    }
    throw new KeyConfigError(
      path,
      "invalid",
      `client secret key unusable: ${describeError(error)} — replace it with this system's client.key_secret from osad2-packager createclient`,
      { cause: error },
    );
  }
}

async function readServerPublicKey(path: string): Promise<string | undefined> {
  try {
    return await readPublicKey(path);
  } catch (error) {
    if (error instanceof KeyFileError && error.code === "ENOENT") return undefined;
    throw new KeyConfigError(
      path,
      "invalid",
      `server public key unusable: ${describeError(error)} — copy the server's public_keys/server.key to ${path} or delete it to use the key from registration`,
      { cause: error },
    );
  }
}
