// Which system each client key belongs to and when it was last used: the server writes it
// (it alone sees handshakes and signed hellos), `osad2-packager keys list` reads it. The file
// lives in the server's state_dir; it is the only contract between the two, so it is here,
// below both, and versioned.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, writeFileAtomic } from "@osad2/service-kit";
import { isValidKeyName } from "./names.js";

/** The file in the server's state_dir. */
export const KEY_USAGE_FILE = "key-usage.json";
/** Not secret (names, ids, addresses); the service's group may read it. */
export const KEY_USAGE_FILE_MODE = 0o640;
const FORMAT_VERSION = 1;

/** What the server last saw of one client key. */
export interface KeyUsage {
  /** rhnServer.id of the system whose signed hello used this key; null before one verified. */
  readonly serverId: number | null;
  /** rhnServer.name (the profile name), when known. */
  readonly profileName: string | null;
  /** The push client name (rhnPushClient.name) the key last spoke for. */
  readonly clientName: string | null;
  /** Peer address of the last handshake with this key ("10.0.0.5"), when known. */
  readonly address: string | null;
  /** ISO 8601 time of the first handshake the server saw with this key. */
  readonly firstSeen: string;
  /** ISO 8601 time of the last handshake or signed message with this key. */
  readonly lastSeen: string;
}

/** The key-usage file cannot be read or makes no sense. */
export class KeyUsageFileError extends Error {
  override readonly name = "KeyUsageFileError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(
      `${path}: ${detail}; osad2-server writes it (which system each client key belongs to and when it was last seen). Move it away and the server writes a new one as clients connect`,
      options,
    );
    this.path = path;
  }
}

/** Path of the key-usage file in a state directory. */
export function keyUsagePath(stateDir: string): string {
  return join(stateDir, KEY_USAGE_FILE);
}

function isTime(value: unknown): value is string {
  return typeof value === "string" && !Number.isNaN(Date.parse(value));
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}

function toUsage(value: unknown): KeyUsage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const entry = value as Record<string, unknown>;
  const serverId = entry.serverId;
  if (serverId !== null && !(typeof serverId === "number" && Number.isSafeInteger(serverId))) {
    return undefined;
  }
  if (!isNullableString(entry.profileName) || !isNullableString(entry.clientName)) return undefined;
  if (!isNullableString(entry.address)) return undefined;
  if (!isTime(entry.firstSeen) || !isTime(entry.lastSeen)) return undefined;
  return {
    serverId,
    profileName: entry.profileName,
    clientName: entry.clientName,
    address: entry.address,
    firstSeen: entry.firstSeen,
    lastSeen: entry.lastSeen,
  };
}

/**
 * Reads `{"version":1,"keys":{NAME: KeyUsage}}`. A missing file is an empty map (nothing
 * seen yet); anything else unreadable is a {@link KeyUsageFileError} naming the file.
 */
export async function readKeyUsage(path: string): Promise<Map<string, KeyUsage>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return new Map();
    throw new KeyUsageFileError(path, `cannot be read (${errnoCode(error) ?? String(error)})`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new KeyUsageFileError(path, "is not JSON", { cause: error });
  }
  const document = parsed as { version?: unknown; keys?: unknown } | null;
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new KeyUsageFileError(path, 'is not an object {"version":1,"keys":{…}}');
  }
  if (document.version !== FORMAT_VERSION) {
    throw new KeyUsageFileError(
      path,
      `has version ${JSON.stringify(document.version)}, this osad2 reads version ${FORMAT_VERSION}`,
    );
  }
  const keys = document.keys;
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
    throw new KeyUsageFileError(path, '"keys" is not an object');
  }
  const usage = new Map<string, KeyUsage>();
  for (const [name, value] of Object.entries(keys)) {
    const entry = toUsage(value);
    if (!isValidKeyName(name) || entry === undefined) {
      throw new KeyUsageFileError(path, `entry ${JSON.stringify(name).slice(0, 80)} is malformed`);
    }
    usage.set(name, entry);
  }
  return usage;
}

/** Replaces the file atomically (temp file, fsync, rename), mode 0640 whatever the umask. */
export async function writeKeyUsage(
  path: string,
  usage: ReadonlyMap<string, KeyUsage>,
): Promise<void> {
  const keys = Object.fromEntries([...usage].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const text = `${JSON.stringify({ version: FORMAT_VERSION, keys }, null, 1)}\n`;
  await writeFileAtomic(path, text, { mode: KEY_USAGE_FILE_MODE });
}
