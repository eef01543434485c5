import {
  ConfigError,
  defaultConfig,
  loadConfig,
  locationPrefix,
  normalizeConfig,
  resolveConfig,
  type ConfigSources,
  type IniDocument,
} from "@osad2/service-kit";
import {
  CONFIG_SECTION,
  SERVER_CONFIG,
  type ServerConfig,
  type ServerConfigKey,
} from "./schema.js";

/** Every field at its documented default. */
export function defaultServerConfig(): ServerConfig {
  return defaultConfig(SERVER_CONFIG);
}

/**
 * Merges library-supplied values over the defaults and validates every field.
 * @throws {ConfigError} naming the INI key of the first bad value.
 */
export function normalizeServerConfig(input: Partial<ServerConfig> = {}): ServerConfig {
  return checkCombination(normalizeConfig(SERVER_CONFIG, input), undefined);
}

/**
 * Builds and validates the configuration from its sources (pure): defaults < file <
 * environment `OSAD2_DATABASE` (for `database`) < flags.
 * @throws {ConfigError} naming file, line and key.
 */
export function resolveServerConfig(sources: ConfigSources): ServerConfig {
  return checkCombination(resolveConfig(SERVER_CONFIG, sources), sources.document);
}

/** Options of {@link loadServerConfig}. */
export interface LoadServerConfigOptions {
  readonly path: string;
  /** Whether a missing file is an error (it was named with --config). Default true. */
  readonly required?: boolean;
  /** Raw command-line values by INI key. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** Environment; only OSAD2_DATABASE is read. Default none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads the config file (strict INI: unknown keys, sections other than `[main]`, malformed
 * lines and bad values are errors naming file, line and key), then environment and flags.
 */
export async function loadServerConfig(options: LoadServerConfigOptions): Promise<ServerConfig> {
  const { values, document } = await loadConfig(SERVER_CONFIG, options);
  return checkCombination(values, document);
}

/** Rules across keys, reported at the line of the key to fix when it came from the file. */
function checkCombination(config: ServerConfig, document: IniDocument | undefined): ServerConfig {
  const problem = (key: ServerConfigKey, message: string): ConfigError => {
    const line = document?.sections.get(CONFIG_SECTION)?.get(key)?.line;
    const where = document === undefined ? "" : locationPrefix(document.path, line);
    return new ConfigError(`${where}${message}`, {
      key,
      ...(document === undefined ? {} : { path: document.path }),
      ...(line === undefined ? {} : { line }),
    });
  };
  if ((config.tlsCert === "") !== (config.tlsKey === "")) {
    throw problem(
      config.tlsCert === "" ? "tls_cert" : "tls_key",
      "tls_cert and tls_key must be set together: set both for HTTPS, or neither",
    );
  }
  if (config.publisherPort !== 0 && config.publisherPort === config.listenerPort) {
    throw problem(
      "listener_port",
      `listener_port must differ from publisher_port (both are ${config.listenerPort})`,
    );
  }
  const ports: [ServerConfigKey, number][] = [
    ["publisher_port", config.publisherPort],
    ["listener_port", config.listenerPort],
  ];
  const clash = ports.find(([, port]) => port !== 0 && port === config.proxyPort);
  if (clash !== undefined) {
    throw problem(
      "proxy_port",
      `proxy_port must differ from ${clash[0]} (both are ${config.proxyPort})`,
    );
  }
  return config;
}
