import type { ClientConfig } from "./config.js";
import type { ConfigKey } from "./config-schema.js";
import type { ClientKeys } from "./keyfiles.js";

/**
 * What decides the registration: every register_osad call gives the system a new name
 * (Spacewalk rotates it), so a reload registers again only when one of these changed.
 * `server_url` and `ca_cert` are compared as derived (from up2date when not set).
 */
const REGISTRATION: ReadonlyMap<ConfigKey, keyof ClientConfig> = new Map([
  ["server_url", "serverUrl"],
  ["ca_cert", "caCert"],
  ["systemid", "systemid"],
]);

/** What decides the connection of a registration: a change reconnects under the same name. */
const CONNECTION: ReadonlyMap<ConfigKey, keyof ClientConfig> = new Map([
  ["server_host", "serverHost"],
  ["publisher_port", "publisherPort"],
  ["listener_port", "listenerPort"],
  ["server_public_key", "serverPublicKey"],
  ["client_secret_key", "clientSecretKey"],
]);

/** Read once at start; a change is ignored until the service restarts. */
const RESTART: ReadonlyMap<ConfigKey, keyof ClientConfig> = new Map([
  ["logfile", "logfile"],
  ["pidfile", "pidfile"],
]);

/** The running configuration and the keys it read. */
export interface LoadedSettings {
  readonly config: ClientConfig;
  readonly keys: ClientKeys;
}

/** What a reload (SIGHUP) has to do, as `[osad]` keys that changed. */
export interface ClientReloadPlan {
  /** Non-empty: register again (a new client name). */
  readonly register: readonly ConfigKey[];
  /** Non-empty (and nothing to register): reconnect under the same name. */
  readonly reconnect: readonly ConfigKey[];
  /** Changed, but applied only by a restart. */
  readonly restartNeeded: readonly ConfigKey[];
}

function changed(
  fields: ReadonlyMap<ConfigKey, keyof ClientConfig>,
  before: ClientConfig,
  after: ClientConfig,
): ConfigKey[] {
  return [...fields]
    .filter(([, field]) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map(([key]) => key);
}

/** Compares the running settings with the ones just loaded. */
export function planClientReload(before: LoadedSettings, after: LoadedSettings): ClientReloadPlan {
  const reconnect = changed(CONNECTION, before.config, after.config);
  // The same paths may hold new keys (an operator replaced the files).
  if (
    !reconnect.includes("client_secret_key") &&
    (before.keys.clientKeyPair.secretKey !== after.keys.clientKeyPair.secretKey ||
      before.keys.clientKeyPair.publicKey !== after.keys.clientKeyPair.publicKey)
  ) {
    reconnect.push("client_secret_key");
  }
  if (
    !reconnect.includes("server_public_key") &&
    before.keys.serverPublicKey !== after.keys.serverPublicKey
  ) {
    reconnect.push("server_public_key");
  }
  return {
    register: changed(REGISTRATION, before.config, after.config),
    reconnect,
    restartNeeded: changed(RESTART, before.config, after.config),
  };
}
