import { access, readFile } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import {
  CONFIG_SCHEMA,
  CONFIG_SECTION,
  DEFAULT_CONFIG_PATH,
  LEGACY_KEYS,
  type ConfigKey,
  type ConfigValues,
  type KeySpec,
  camelCase,
  flagName,
} from "./config-schema.js";
import { ConfigError, errnoCode } from "./errors.js";
import { parseIni } from "./ini-file.js";
import { readUp2date } from "./up2date.js";

/**
 * The client's complete configuration: every `[osad]` key (camelCased, typed), with the
 * derived values filled in — key paths made absolute under `certificates`, `serverUrl`
 * and `caCert` taken from up2date when not set, `serverHost` from `serverUrl`.
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
 * Reads the config file, applies overrides, validates every value and derives the rest
 * from up2date. Throws ConfigError naming the file or flag and the fix.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ClientConfig> {
  const path = options.configPath ?? DEFAULT_CONFIG_PATH;
  const fileValues = await readConfigFile(path);
  const values = parseConfigValues(fileValues, options.overrides ?? {}, path);
  return resolveConfig(values, path, fileValues.get("osa_ssl_cert") ?? "");
}

/** Reads and parses the `[osad]` section of a config file. */
export async function readConfigFile(path: string): Promise<ReadonlyMap<string, string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = errnoCode(error);
    const fix =
      code === "ENOENT"
        ? "create it (the osad2 client package installs one) or pass --config FILE"
        : "run as root or fix its permissions";
    throw new ConfigError(
      `cannot read config file ${path} (${code ?? String(error)}): ${fix}`,
      {
        path,
      },
      { cause: error },
    );
  }
  const section = parseIni(text, path).get(CONFIG_SECTION);
  if (section === undefined) {
    throw new ConfigError(
      `${path} has no [${CONFIG_SECTION}] section: add "[${CONFIG_SECTION}]" above its keys`,
      {
        path,
      },
    );
  }
  return section;
}

/**
 * Validates file values and overrides against the schema (pure, no I/O). Unknown keys are
 * refused, except the seed's legacy ones ({@link LEGACY_KEYS}), which are ignored.
 */
export function parseConfigValues(
  fileValues: ReadonlyMap<string, string>,
  overrides: ConfigOverrides,
  path: string,
): ConfigValues {
  for (const key of fileValues.keys()) {
    if (!(key in CONFIG_SCHEMA) && !LEGACY_KEYS.includes(key)) {
      throw new ConfigError(
        `unknown key "${key}" in [${CONFIG_SECTION}] of ${path}: fix its spelling or remove it (known: ${Object.keys(CONFIG_SCHEMA).join(", ")})`,
        { path, key },
      );
    }
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA) as [ConfigKey, KeySpec][]) {
    const override = overrides[key];
    const fromFile = fileValues.get(key);
    const source =
      override !== undefined
        ? { text: override, where: `${flagName(key)} ${JSON.stringify(override)}` }
        : fromFile !== undefined
          ? { text: fromFile, where: `${key} = ${JSON.stringify(fromFile)} in ${path}` }
          : { text: spec.default, where: `default ${key} = ${JSON.stringify(spec.default)}` };
    values[camelCase(key)] = parseValue(key, spec, source.text, source.where, path);
  }
  return values as unknown as ConfigValues;
}

function parseValue(
  key: ConfigKey,
  spec: KeySpec,
  text: string,
  where: string,
  path: string,
): unknown {
  const value = text.trim();
  const fail = (expected: string, example: string): never => {
    throw new ConfigError(`${where} is not ${expected}: write e.g. ${key} = ${example}`, {
      path,
      key,
    });
  };
  switch (spec.type) {
    case "path":
      return value === "" ? fail("a path", spec.default) : value;
    case "optional-path":
    case "optional-host":
      return value;
    case "optional-url":
      if (value === "") return value;
      try {
        const url = new URL(value);
        if (url.protocol === "http:" || url.protocol === "https:") return value;
      } catch {
        // falls through to the error below
      }
      return fail("an http:// or https:// URL", "https://spacewalk.example.com/XMLRPC");
    case "command": {
      const argv = splitCommand(value);
      return argv === undefined || argv.length === 0
        ? fail("a command line (quotes must be balanced)", spec.default)
        : argv;
    }
    case "seconds":
    case "positive-seconds": {
      const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
      const ok = Number.isFinite(n) && (spec.type === "seconds" || n > 0);
      return ok
        ? n
        : fail(
            spec.type === "seconds" ? "a number of seconds ≥ 0" : "a number of seconds > 0",
            spec.default,
          );
    }
    case "count":
      return /^\d+$/.test(value) ? Number(value) : fail("a whole number ≥ 0", spec.default);
    case "port": {
      const n = /^\d+$/.test(value) ? Number(value) : 0;
      return n >= 1 && n <= 65535 ? n : fail("a TCP port (1-65535)", spec.default);
    }
    case "flag": {
      const v = value.toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      return fail("0 or 1", spec.default);
    }
  }
}

/**
 * Splits a command line into argv the way a shell would for plain words, quotes and
 * backslashes, without running a shell (nothing is expanded). undefined on unbalanced quotes.
 */
export function splitCommand(text: string): string[] | undefined {
  const argv: string[] = [];
  let current = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) {
        current += text[++i];
      } else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return undefined;
  if (inWord) argv.push(current);
  return argv;
}

/** Fills in what depends on other keys or on up2date's file. */
export async function resolveConfig(
  values: ConfigValues,
  configPath: string,
  legacyCaCert = "",
): Promise<ClientConfig> {
  const certificates = values.certificates;
  let serverUrl = values.serverUrl;
  let caCert = values.caCert || legacyCaCert;
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
    serverHost: values.serverHost || url.hostname,
  };
}
