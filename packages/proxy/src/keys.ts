import { dirname } from "node:path";
import {
  assertKeyDirectory,
  KeyFileError,
  readKeyPair,
  readPublicKey,
  type KeyPair,
} from "@osad2/keys";
import { describeError } from "@osad2/service-kit";
import { proxyKeyPaths } from "./config.js";
import { ProxyKeyError } from "./errors.js";

/** The CURVE keys a proxy runs with. */
export interface ProxyKeys {
  /** The proxy's own pair: clients and child proxies connect to it; it connects upstream with it. */
  readonly keyPair: KeyPair;
  /** The parent's public key (the server's, or a parent proxy's). */
  readonly upstreamPublicKey: string;
}

const FIX = "install this proxy's key package (osad2-packager createproxy NAME)";

/**
 * Reads private_keys/proxy.key_secret (must be 0600 in a directory only root may write, and
 * hold a matching pair) and public_keys/upstream.key.
 * @throws {ProxyKeyError} naming the file and the fix.
 */
export async function loadProxyKeys(certificates: string): Promise<ProxyKeys> {
  const paths = proxyKeyPaths(certificates);
  let keyPair: KeyPair;
  try {
    await assertKeyDirectory(dirname(paths.secretKey), "the proxy's private keys");
    keyPair = await readKeyPair(paths.secretKey);
  } catch (error) {
    throw new ProxyKeyError(paths.secretKey, keyMessage(paths.secretKey, error), {
      cause: error,
    });
  }
  let upstreamPublicKey: string;
  try {
    upstreamPublicKey = await readPublicKey(paths.upstreamKey);
  } catch (error) {
    throw new ProxyKeyError(
      paths.upstreamKey,
      `${keyMessage(paths.upstreamKey, error)} (the server's public_keys/server.key, or the parent proxy's proxy.key)`,
      { cause: error },
    );
  }
  return { keyPair, upstreamPublicKey };
}

function keyMessage(path: string, error: unknown): string {
  if (error instanceof KeyFileError && error.code === "ENOENT") return `${path} not found: ${FIX}`;
  return `${path} unusable: ${describeError(error)} — ${FIX}`;
}
