import { readFile } from "node:fs/promises";
import { decode } from "ini";
import {
  FIELD_BY_INI_KEY,
  SERVER_CONFIG_FIELDS,
  SERVER_CONFIG_SCHEMA,
  type ServerConfig,
} from "./schema.js";
import { ConfigError, ConfigFileError } from "../errors.js";

/** Where `osad2-server` looks for its configuration when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = "/etc/rhn/osad2-server/osad_server.cfg";
/** The INI section holding every key (the seed's). */
export const CONFIG_SECTION = "main";
/** Environment variable that overrides `database` from the file (a flag still wins). */
export const DATABASE_ENV = "OSAD2_DATABASE";

/** Raw `[main]` values of a config file, by INI key. */
export interface ConfigFileValues {
  readonly values: Readonly<Record<string, string>>;
  /** Keys osad2 does not know (kept from old seed files or typos); the CLI warns about them. */
  readonly unknownKeys: readonly string[];
}

/** Every field at its documented default. */
export function defaultServerConfig(): ServerConfig {
  const config: Record<string, unknown> = {};
  for (const field of SERVER_CONFIG_FIELDS)
    config[field] = SERVER_CONFIG_SCHEMA[field].defaultValue();
  return config as unknown as ServerConfig;
}

/**
 * Merges library-supplied values over the defaults and validates every field.
 * Throws ConfigError naming the INI key of the first bad value.
 */
export function normalizeServerConfig(input: Partial<ServerConfig> = {}): ServerConfig {
  const config: Record<string, unknown> = { ...defaultServerConfig() };
  for (const [field, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const schema = SERVER_CONFIG_SCHEMA[field as keyof ServerConfig] as
      (typeof SERVER_CONFIG_SCHEMA)[keyof ServerConfig] | undefined;
    if (schema === undefined)
      throw new ConfigError(undefined, `unknown server option ${JSON.stringify(field)}`);
    const problem = schema.check(value);
    if (problem !== undefined)
      throw new ConfigError(schema.key, `${JSON.stringify(value)} ${problem}`);
    config[field] = value;
  }
  return checkCombination(config as unknown as ServerConfig);
}

function checkCombination(config: ServerConfig): ServerConfig {
  if ((config.tlsCert === "") !== (config.tlsKey === "")) {
    throw new ConfigError(
      config.tlsCert === "" ? "tls_cert" : "tls_key",
      "tls_cert and tls_key must be set together",
    );
  }
  if (config.publisherPort !== 0 && config.publisherPort === config.listenerPort) {
    throw new ConfigError(
      "listener_port",
      `must differ from publisher_port (both are ${config.listenerPort})`,
    );
  }
  return config;
}

/** Parses the text of an INI file; only `[main]` is read. */
export function parseConfigText(text: string, path: string): ConfigFileValues {
  let parsed: Record<string, unknown>;
  try {
    parsed = decode(text) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigFileError(path, "is not a valid INI file", { cause });
  }
  const section = parsed[CONFIG_SECTION];
  if (section === undefined) return { values: {}, unknownKeys: [] };
  if (typeof section !== "object" || section === null) {
    throw new ConfigFileError(path, `[${CONFIG_SECTION}] must be a section`);
  }
  const values: Record<string, string> = {};
  const unknownKeys: string[] = [];
  for (const [key, value] of Object.entries(section as Record<string, unknown>)) {
    if (!FIELD_BY_INI_KEY.has(key)) {
      unknownKeys.push(key);
      continue;
    }
    // `ini` turns true/false into booleans and repeated keys into arrays; the schema parses text.
    if (Array.isArray(value) || (typeof value === "object" && value !== null)) {
      throw new ConfigError(key, "must be a single value");
    }
    values[key] = value === null ? "" : String(value);
  }
  return { values, unknownKeys };
}

/**
 * Reads a config file. A missing file is an error only when `required` (the user named it
 * with --config); the default path may be absent, then every key has its default.
 */
export async function readConfigFile(path: string, required: boolean): Promise<ConfigFileValues> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return { values: {}, unknownKeys: [] };
    throw new ConfigFileError(
      path,
      code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? "error"})`,
      {
        cause,
      },
    );
  }
  return parseConfigText(text, path);
}

/** The layers of a configuration, lowest precedence first: defaults, file, environment, flags. */
export interface ConfigSources {
  /** Raw file values by INI key. */
  readonly file?: Readonly<Record<string, string>>;
  /** Process environment; only {@link DATABASE_ENV} is read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Raw command-line values by INI key (`publisher_port`, not `--publisher-port`). */
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

/** Builds and validates the configuration from text sources; throws ConfigError naming the key. */
export function resolveServerConfig(sources: ConfigSources): ServerConfig {
  const raw: Record<string, string> = { ...sources.file };
  const envDatabase = sources.env?.[DATABASE_ENV];
  if (envDatabase !== undefined && envDatabase !== "") raw.database = envDatabase;
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value !== undefined) raw[key] = value;
  }
  const config: Record<string, unknown> = { ...defaultServerConfig() };
  for (const [key, text] of Object.entries(raw)) {
    const field = FIELD_BY_INI_KEY.get(key);
    if (field === undefined) throw new ConfigError(key, "is not an osad2-server setting");
    config[field] = SERVER_CONFIG_SCHEMA[field].parse(text);
  }
  return checkCombination(config as unknown as ServerConfig);
}
