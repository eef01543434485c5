/**
 * The server's record of a proxy: its public certificate `proxies/NAME.key`, whose metadata says
 * what `createproxy` was told (the host systems and child proxies reach it at, its parent). All
 * proxy keys live in the server's store, child proxies' too: a parent proxy forwards their
 * admission to the server.
 */
import { KeyStore, certificateLayout, readCertificate } from "@osad2/keys";
import { join } from "node:path";
import { UnknownProxyError } from "./errors.js";
import { pathExists } from "./fs-util.js";

/** `kind` metadata of a proxy's certificates (keys list tells a revoked proxy from a client by it). */
export const PROXY_KIND = "proxy";

/** Metadata of `proxies/NAME.key`. */
export interface ProxyMetadata {
  readonly name: string;
  readonly kind: typeof PROXY_KIND;
  /** `createproxy --host`: where systems (port 5556) and child proxies (5558) reach it. */
  readonly host?: string;
  /** `createproxy --parent`. */
  readonly parent?: string;
  readonly "created-by": "osad2-packager";
}

/** An allowed proxy as the server's store holds it. */
export interface ProxyRecord {
  readonly name: string;
  readonly publicKey: string;
  readonly path: string;
  /** Its recorded host, undefined when createproxy was given none. */
  readonly host: string | undefined;
  readonly parent: string | undefined;
}

/** The certificate metadata of a new proxy. */
export function proxyMetadata(
  name: string,
  host: string | undefined,
  parent: string | undefined,
): ProxyMetadata & Record<string, string> {
  return {
    name,
    kind: PROXY_KIND,
    ...(host === undefined ? {} : { host }),
    ...(parent === undefined ? {} : { parent }),
    "created-by": "osad2-packager",
  };
}

/** Opens the server's proxies allow-list for one-shot use (no watching, no polling). */
export function openProxyStore(certificates: string): Promise<KeyStore> {
  return KeyStore.open(certificates, { allowList: "proxies", pollIntervalMs: 0, fsWatch: false });
}

/**
 * The allowed proxy `name` (in `proxies/`, not revoked) with its recorded host and parent.
 * @throws {UnknownProxyError} when it is not there (or revoked).
 */
export async function readProxy(certificates: string, name: string): Promise<ProxyRecord> {
  const path = join(certificateLayout(certificates).proxiesDir, `${name}.key`);
  // Never create proxies/ in a directory that has none: a mistyped name must change nothing.
  if (!(await pathExists(path))) throw new UnknownProxyError(name, path, "is not a known proxy");
  const store = await openProxyStore(certificates);
  let key;
  try {
    key = store.get(name);
  } finally {
    await store.close();
  }
  if (key === undefined) {
    throw new UnknownProxyError(name, path, "is not allowed (revoked, or its file is unreadable)");
  }
  const { metadata } = await readCertificate(key.path);
  return {
    name,
    publicKey: key.publicKey,
    path: key.path,
    host: nonEmpty(metadata.host),
    parent: nonEmpty(metadata.parent),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
