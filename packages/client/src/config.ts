import { access, readFile } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import {
  ConfigError,
  loadConfig as loadKitConfig,
  parseIni,
  resolveConfig,
} from "@osad2/service-kit";
import {
  CLIENT_CONFIG,
  DEFAULT_CONFIG_PATH,
  type ConfigKey,
  type ConfigValues,
} from "./config-schema.js";
import { type SeedPartsSource, seedUrlDefaults } from "./seed-url.js";
import { readUp2date } from "./up2date.js";

/**
 * The client's complete configuration: every `[osad]` key (camelCased, typed), with the
 * derived values filled in — key paths made absolute under `certificates`, `serverUrl`
 * and `caCert` taken from up2date when not set. `serverHost` is the list as configured (empty
 * when not set: where to connect is then decided by the registration reply, see resolveEndpoints).
 */
export interface ClientConfig extends ConfigValues {
  /** The config file that was read. */
  readonly configPath: string;
}

/** Where values come from besides the file: CLI flags, keyed by `[osad]` key name. */
export type ConfigOverrides = Partial<Record<ConfigKey, string>>;

export interface LoadConfigOptions {
  /** Config file; default {@link DEFAULT_CONFIG_PATH}. */
  readonly configPath?: string;
  /** Values that win over the file (the CLI's flags), as text, keyed by `[osad]` key. */
  readonly overrides?: ConfigOverrides;
}

/**
 * Reads the config file (strict INI: unknown keys, bad sections and bad values are errors
 * naming file, line and key), applies overrides, validates every value and derives the rest
 * from up2date. Throws ConfigError naming the file or flag and the fix.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ClientConfig> {
  const path = options.configPath ?? DEFAULT_CONFIG_PATH;
  return deriveConfig(await readValues(path, options.overrides ?? {}, "up2date"), path);
}

/**
 * The `state_file` a config names, for `osad2-client status`: the file is read as strictly as
 * by {@link loadConfig}, but nothing is derived — no up2date, CA or key file is needed to
 * report on the running service.
 */
export async function loadStateFilePath(options: LoadConfigOptions = {}): Promise<string> {
  const path = options.configPath ?? DEFAULT_CONFIG_PATH;
  return (await readValues(path, options.overrides ?? {}, "placeholders")).stateFile;
}

async function readValues(
  path: string,
  flags: ConfigOverrides,
  seedParts: SeedPartsSource,
): Promise<ConfigValues> {
  const seedText = await seedConfigText(path, flags, seedParts);
  return seedText === undefined
    ? (await loadKitConfig(CLIENT_CONFIG, { path, flags })).values
    : resolveConfig(CLIENT_CONFIG, { document: parseIni(seedText, path), flags });
}

/**
 * The seed's shipped config (`server_url = %(proto)s://%(server_name)s%(server_handler)s`) with
 * the parts it leaves to the program appended, or undefined for any other file (read as is).
 */
async function seedConfigText(
  path: string,
  flags: ConfigOverrides,
  seedParts: SeedPartsSource,
): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined; // service-kit's loader reports it, with the fix
  }
  const up2dateLine = /^[ \t]*up2date[ \t]*[=:][ \t]*(\S.*?)[ \t]*$/m.exec(text);
  const up2date = flags.up2date ?? up2dateLine?.[1] ?? CLIENT_CONFIG.keys.up2date.default;
  const appendix = await seedUrlDefaults(text, path, up2date, seedParts);
  return appendix === "" ? undefined : text + appendix;
}

/** Fills in what depends on other keys or on up2date's file. */
export async function deriveConfig(
  values: ConfigValues,
  configPath: string,
): Promise<ClientConfig> {
  const certificates = values.certificates;
  let serverUrl = values.serverUrl;
  let caCert = values.caCert;
  if (serverUrl === "" || caCert === "") {
    const up2date = await readUp2date(values.up2date);
    if (serverUrl === "") {
      if (up2date?.serverUrl === undefined) {
        throw new ConfigError(
          `no registration URL: ${values.up2date} ${up2date ? "has no serverURL" : "not found"} — register this system with rhnreg_ks or set server_url in ${configPath}`,
          { path: values.up2date, key: "server_url" },
        );
      }
      serverUrl = up2date.serverUrl;
      try {
        new URL(serverUrl);
      } catch (cause) {
        throw new ConfigError(
          `serverURL ${JSON.stringify(serverUrl)} in ${values.up2date} is not a URL: fix it or set server_url in ${configPath}`,
          { path: values.up2date, key: "server_url" },
          { cause },
        );
      }
    }
    if (caCert === "" && up2date !== undefined) caCert = up2date.sslCaCerts.join(";");
  }
  const url = new URL(serverUrl);
  if (url.protocol === "https:" && caCert !== "") {
    for (const file of caCert.split(";")) {
      try {
        await access(file);
      } catch (cause) {
        throw new ConfigError(
          `CA certificate ${file} for ${serverUrl} not found: install the server's CA (e.g. rhn-org-trusted-ssl-cert) or set ca_cert in ${configPath}`,
          { path: file, key: "ca_cert" },
          { cause },
        );
      }
    }
  }
  return {
    ...values,
    configPath,
    serverPublicKey: resolvePath(certificates, values.serverPublicKey),
    clientSecretKey: resolvePath(certificates, values.clientSecretKey),
    serverUrl,
    caCert,
  };
}
