import { basename, resolve } from "node:path";
import {
  KeyStore,
  KeyUsageFileError,
  certificateLayout,
  keyUsagePath,
  parseCompactTimestamp,
  readCertificate,
  readKeyUsage,
  type KeyUsage,
  type StoredKey,
} from "@osad2/keys";
import { pathExists } from "./fs-util.js";
import { PROXY_KIND, openProxyStore } from "./proxy-keys.js";
import { assertCertificatesDir } from "./revoke-client.js";
import { DEFAULT_SERVER_CERTIFICATES_DIR, RESERVED_CLIENT_NAMES } from "./options.js";

/** The server's `state_dir` default, where it writes `key-usage.json`. */
export const DEFAULT_SERVER_STATE_DIR = "/var/lib/osad2";

/** Where a key stands. */
export type KeyState = "allowed" | "retiring" | "expired" | "revoked";

/** Whose key: a system's (public_keys/) or an osad2 proxy's (proxies/). */
export type KeyKind = "client" | "proxy";

/** One client or proxy key file and what the server last saw of its system. */
export interface KeyListing {
  /** The name given to createclient or createproxy. */
  readonly name: string;
  /** A revoked key is a proxy's when its certificate says `kind = proxy` (createproxy writes it). */
  readonly kind: KeyKind;
  /**
   * `allowed` (public_keys/), `retiring` (re-issued, still allowed until its deadline or its
   * successor's first connection), `expired` (retiring past its deadline: refused; the server
   * moves it to revoked/), `revoked` (revoked/).
   */
  readonly state: KeyState;
  readonly publicKey: string;
  readonly path: string;
  /** Retiring and expired keys: when it stops (stopped) being allowed, ISO 8601. */
  readonly deadline: string | null;
  /** Revoked keys: when, ISO 8601 (from the file name). */
  readonly revokedAt: string | null;
  /**
   * What the server's key-usage.json says of this name (the system the name's keys speak for,
   * when last seen), null when never seen, for proxies — or when the file could not be read
   * (see {@link KeyList.usageError}).
   */
  readonly usage: KeyUsage | null;
  /** Proxies: what createproxy recorded (`--host`, `--parent`; null when not given); null for clients. */
  readonly proxy: ProxyNote | null;
}

/** What the certificate of a proxy's key says of it. */
export interface ProxyNote {
  readonly host: string | null;
  readonly parent: string | null;
}

/** What {@link listKeys} found. */
export interface KeyList {
  /** By name, then clients before proxies, then allowed, retiring, expired, revoked, then by path. */
  readonly keys: readonly KeyListing[];
  /** The key-usage file read. */
  readonly usageFile: string;
  /** Why it could not be read (every `usage` is then null), or null. */
  readonly usageError: string | null;
}

/** Options of {@link listKeys}. */
export interface ListKeysOptions {
  /** The server's certificates directory. Default {@link DEFAULT_SERVER_CERTIFICATES_DIR}. */
  readonly certificates?: string;
  /** The server's state_dir. Default {@link DEFAULT_SERVER_STATE_DIR}. */
  readonly stateDir?: string;
  /** The time deadlines are judged at. Default now. */
  readonly now?: Date;
}

const STATE_ORDER: Readonly<Record<KeyState, number>> = {
  allowed: 0,
  retiring: 1,
  expired: 2,
  revoked: 3,
};

/**
 * Every client and proxy key the server's certificates hold — allowed, retiring and revoked
 * (the server's own key left out) — with the usage the server recorded in `key-usage.json`. A
 * missing usage file means nothing was seen yet; an unreadable one is reported in
 * `usageError` rather than thrown, so the allow-list can always be listed.
 * @throws {MissingServerKeyError} a directory without `public_keys/server.key`.
 */
export async function listKeys(options: ListKeysOptions = {}): Promise<KeyList> {
  const certificates = options.certificates ?? DEFAULT_SERVER_CERTIFICATES_DIR;
  await assertCertificatesDir(certificates);
  const usageFile = keyUsagePath(resolve(options.stateDir ?? DEFAULT_SERVER_STATE_DIR));
  let usage = new Map<string, KeyUsage>();
  let usageError: string | null = null;
  try {
    usage = await readKeyUsage(usageFile);
  } catch (error) {
    if (!(error instanceof KeyUsageFileError)) throw error;
    usageError = error.message;
  }
  const now = (options.now ?? new Date()).getTime();
  const keys: KeyListing[] = [];
  const add = async (
    key: StoredKey,
    kind: KeyKind,
    state: KeyState,
    deadline: Date | null,
    revokedAt: Date | null,
  ): Promise<void> => {
    keys.push({
      name: key.name,
      kind,
      state,
      publicKey: key.publicKey,
      path: key.path,
      deadline: deadline?.toISOString() ?? null,
      revokedAt: revokedAt?.toISOString() ?? null,
      usage: kind === "client" ? (usage.get(key.name) ?? null) : null,
      proxy: kind === "proxy" ? await proxyNote(key) : null,
    });
  };
  const clients = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
  try {
    for (const key of clients.list()) {
      if (!RESERVED_CLIENT_NAMES.includes(key.name))
        await add(key, "client", "allowed", null, null);
    }
    for (const key of clients.listRetiring()) {
      const state = key.deadline.getTime() > now ? "retiring" : "expired";
      await add(key, "client", state, key.deadline, null);
    }
    // revoked/ is shared by both lists: the certificate says whose it was.
    for (const key of clients.listRevoked())
      await add(key, await revokedKind(key), "revoked", null, revokedAtOf(key.path));
  } finally {
    await clients.close();
  }
  // Listing creates nothing: a server without proxies/ has no proxy keys.
  const proxies = (await pathExists(certificateLayout(certificates).proxiesDir))
    ? await openProxyStore(certificates)
    : undefined;
  try {
    for (const key of proxies?.list() ?? []) await add(key, "proxy", "allowed", null, null);
    for (const key of proxies?.listRetiring() ?? []) {
      const state = key.deadline.getTime() > now ? "retiring" : "expired";
      await add(key, "proxy", state, key.deadline, null);
    }
  } finally {
    await proxies?.close();
  }
  keys.sort(
    (a, b) =>
      compare(a.name, b.name) ||
      compare(a.kind, b.kind) ||
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      compare(a.path, b.path),
  );
  return { keys, usageFile, usageError };
}

/** A proxy's recorded host and parent; an unreadable certificate records nothing. */
async function proxyNote(key: StoredKey): Promise<ProxyNote> {
  try {
    const { metadata } = await readCertificate(key.path);
    return { host: metadata.host ?? null, parent: metadata.parent ?? null };
  } catch {
    return { host: null, parent: null };
  }
}

/** A revoked key's kind from its certificate's metadata; unreadable counts as a client's, as before. */
async function revokedKind(key: StoredKey): Promise<KeyKind> {
  try {
    return (await readCertificate(key.path)).metadata.kind === PROXY_KIND ? "proxy" : "client";
  } catch {
    return "client";
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// revoked/<name>.<20250131T120000123Z[-n]>.key
function revokedAtOf(path: string): Date | null {
  const stamp = /\.(\d{8}T\d{9}Z)(?:-\d+)?\.key$/.exec(basename(path))?.[1];
  return (stamp === undefined ? undefined : parseCompactTimestamp(stamp)) ?? null;
}
