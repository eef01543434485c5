import { KeyError } from "./errors.js";

/** Options of {@link KeyStore.open}. */
export interface KeyStoreOptions {
  /**
   * Check the directories this often (ms); 0 = never. While fs.watch works a check costs one
   * stat per directory; without it (disabled, NFS, directory replaced) every check is a full
   * rescan (one stat per key file). Default 1000.
   */
  pollIntervalMs?: number;
  /** Use fs.watch for prompt, per-file updates. Default true. */
  fsWatch?: boolean;
  /** Delay (ms) between a file-system event and acting on it, to coalesce bursts. Default 25. */
  debounceMs?: number;
  /**
   * Rescan fully at least this often (ms) even while fs.watch reports changes. Default 60000.
   * A rescan that took 50 ms or more (thousands of keys) waits at least 1,000 times as long.
   */
  fullScanIntervalMs?: number;
  /**
   * Hears each distinct problem once: unreadable or malformed certificates (skipped, never
   * allowed), revoked keys found in `public_keys/`, unreadable directories, throwing listeners.
   * Default: none (see {@link KeyStore.problems}); listener errors then become process warnings.
   */
  onError?: (error: KeyError) => void;
  /**
   * Which allow-list: `clients` (`public_keys/`, with `retiring/`) or `proxies` (`proxies/`, the
   * osad2 proxies a server admits on its proxy port; re-issued proxy keys retire into
   * `proxies/retiring/`). Both revoke into `revoked/`. Default `clients`.
   */
  allowList?: AllowList;
}

/** The allow-list a {@link KeyStoreOptions} store keeps. */
export type AllowList = "clients" | "proxies";

/** Default of {@link KeyStoreOptions.pollIntervalMs}. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Default of {@link KeyStoreOptions.debounceMs}. */
export const DEFAULT_DEBOUNCE_MS = 25;
/** Default of {@link KeyStoreOptions.fullScanIntervalMs}. */
export const DEFAULT_FULL_SCAN_INTERVAL_MS = 60_000;

/** Options of {@link KeyStore.add}. */
export interface AddKeyOptions {
  /** Replace an existing key of the same name. Default false. */
  force?: boolean;
  /** Metadata for the certificate's `metadata` section. Default none. */
  metadata?: Record<string, string>;
}

/** Options of {@link KeyStore.reissue}. */
export interface ReissueOptions {
  /**
   * How long (ms) the old key stays allowed if the new one never connects; 0 = revoke it now.
   * Required: the packager's default is 7 days.
   */
  overlapMs: number;
  /** Metadata for the new certificate's `metadata` section. Default none. */
  metadata?: Record<string, string>;
}

export type ParsedOptions = Required<Omit<KeyStoreOptions, "onError" | "allowList">>;

export function parseOptions(options: KeyStoreOptions): ParsedOptions {
  const parsed: ParsedOptions = {
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    fullScanIntervalMs: options.fullScanIntervalMs ?? DEFAULT_FULL_SCAN_INTERVAL_MS,
    fsWatch: options.fsWatch ?? true,
  };
  for (const key of ["pollIntervalMs", "debounceMs", "fullScanIntervalMs"] as const) {
    const value = parsed[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new KeyError(`KeyStore option ${key} must be a number >= 0; got ${String(value)}`);
    }
  }
  if (typeof parsed.fsWatch !== "boolean") {
    throw new KeyError(`KeyStore option fsWatch must be true or false`);
  }
  return parsed;
}
