import {
  camelCase,
  defaultText,
  flagName,
  type ConfigDefinition,
  type ConfigSchema,
  type ConfigValues,
  type KeySpec,
} from "./config-schema.js";
import { ConfigError, locationPrefix } from "./errors.js";
import { DEFAULT_SECTION, type IniDocument, type IniEntry } from "./ini.js";

/** The layers of a configuration, lowest precedence first: defaults, file, environment, flags. */
export interface ConfigSources {
  /** The parsed config file; absent when there is none (every key then has its default). */
  readonly document?: IniDocument;
  /** Process environment; only the keys' `env` variables are read. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Raw command-line values by INI key (`publisher_port`, not `--publisher-port`). */
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

interface Source {
  readonly text: string;
  /** How the value is shown in a message: `--jitter "-1"`, `/etc/x.cfg line 3: jitter = "-1"`. */
  readonly shown: string;
  readonly path?: string;
  readonly line?: number;
}

/**
 * Builds and validates the typed config from its sources (pure, no I/O). Refuses a missing
 * required section, sections the program does not read, unknown keys (except
 * `ignoredKeys`), unknown flags and bad values, each with file, line and key.
 * @throws {ConfigError}
 */
export function resolveConfig<S extends ConfigSchema>(
  definition: ConfigDefinition<S>,
  sources: ConfigSources,
): ConfigValues<S> {
  const entries =
    sources.document === undefined ? undefined : sectionEntries(definition, sources.document);
  checkFlags(definition, sources.flags ?? {});
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(definition.keys)) {
    const source = pickSource(key, spec, sources, entries, sources.document?.path);
    const value = spec.type.parse(source.text.trim());
    if (value === undefined) {
      const example = spec.example ?? (defaultText(spec) || spec.type.example || "");
      throw new ConfigError(
        `${source.shown} is not ${spec.type.expected}: write e.g. ${key} = ${example}`,
        {
          key,
          ...(source.path === undefined ? {} : { path: source.path }),
          ...(source.line === undefined ? {} : { line: source.line }),
        },
      );
    }
    values[camelCase(key)] = value;
  }
  return values as ConfigValues<S>;
}

/** Every key at its documented default. */
export function defaultConfig<S extends ConfigSchema>(
  definition: ConfigDefinition<S>,
): ConfigValues<S> {
  return resolveConfig(definition, {});
}

/**
 * Merges values handed in by library code (typed, camelCase) over the defaults and checks
 * each against its key's type. @throws {ConfigError} naming the field and its INI key.
 */
export function normalizeConfig<S extends ConfigSchema>(
  definition: ConfigDefinition<S>,
  input: Partial<ConfigValues<S>>,
): ConfigValues<S> {
  const byField = new Map(
    Object.entries(definition.keys).map(([key, spec]) => [camelCase(key), { key, spec }]),
  );
  const values: Record<string, unknown> = { ...defaultConfig(definition) };
  for (const [field, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const known = byField.get(field);
    if (known === undefined) {
      throw new ConfigError(
        `unknown ${definition.program} option ${JSON.stringify(field)} (known: ${[...byField.keys()].join(", ")})`,
      );
    }
    if (!known.spec.type.accepts(value)) {
      throw new ConfigError(
        `option ${field} = ${JSON.stringify(value)} is not ${known.spec.type.expected} (INI key ${known.key})`,
        { key: known.key },
      );
    }
    values[field] = value;
  }
  return values as ConfigValues<S>;
}

/** The fields whose values differ between two configs (arrays compared element by element). */
export function changedFields<S extends ConfigSchema>(
  definition: ConfigDefinition<S>,
  before: ConfigValues<S>,
  after: ConfigValues<S>,
): (keyof ConfigValues<S>)[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  return Object.keys(definition.keys)
    .map(camelCase)
    .filter(
      (field) => JSON.stringify(a[field]) !== JSON.stringify(b[field]),
    ) as (keyof ConfigValues<S>)[];
}

/** The program's section of the file, after checking sections and keys. */
function sectionEntries(
  definition: ConfigDefinition,
  document: IniDocument,
): { own: ReadonlyMap<string, IniEntry>; defaults: ReadonlyMap<string, IniEntry> } {
  const { path } = document;
  const name = definition.section;
  const own = document.sections.get(name);
  const accepted = new Set<string>(definition.ignoredKeys ?? []);
  for (const [key, spec] of Object.entries(definition.keys)) {
    accepted.add(key);
    for (const alias of spec.aliases ?? []) accepted.add(alias);
  }
  for (const [other, entries] of document.sections) {
    if (other === name) continue;
    const line = document.sectionLines.get(other);
    const keys = [...entries.keys()];
    const shown = keys.length > 6 ? [...keys.slice(0, 6), "…"] : keys;
    const holding = keys.length === 0 ? "" : ` (holding ${shown.join(", ")})`;
    // A misspelt header above the program's own keys: say which header they belong under.
    const fix =
      keys.length > 0 && keys.every((key) => accepted.has(key))
        ? `rename it [${name}]`
        : "rename or remove it";
    throw new ConfigError(
      `${locationPrefix(path, line)}unknown section [${other}]${holding}: ${definition.program} reads only [${name}]${name === DEFAULT_SECTION ? "" : ` and [${DEFAULT_SECTION}]`}; ${fix}`,
      { path, ...(line === undefined ? {} : { line }) },
    );
  }
  if (own === undefined && definition.sectionRequired) {
    throw new ConfigError(
      `${locationPrefix(path)}has no [${name}] section: add "[${name}]" above its keys`,
      { path },
    );
  }
  const known = Object.keys(definition.keys).join(", ");
  for (const [key, entry] of own ?? []) {
    if (!accepted.has(key)) {
      throw new ConfigError(
        `${locationPrefix(path, entry.line)}unknown key "${key}" in [${name}]: fix its spelling or remove it (known keys: ${known})`,
        { path, line: entry.line, key },
      );
    }
  }
  // [DEFAULT] holds interpolation sources besides settings: a key there must be a setting or
  // be referred to with %(key)s, or it is as much a typo as one in [name].
  for (const [key, entry] of document.defaults) {
    if (!accepted.has(key) && !document.referenced.has(key)) {
      throw new ConfigError(
        `${locationPrefix(path, entry.line)}unknown key "${key}" in [${DEFAULT_SECTION}], and no value refers to it with %(${key})s: fix its spelling or remove it (known keys: ${known})`,
        { path, line: entry.line, key },
      );
    }
  }
  return { own: own ?? new Map(), defaults: document.defaults };
}

function checkFlags(
  definition: ConfigDefinition,
  flags: Readonly<Record<string, string | undefined>>,
): void {
  for (const [key, value] of Object.entries(flags)) {
    if (value !== undefined && !(key in definition.keys)) {
      throw new ConfigError(
        `${flagName(key)} is not an ${definition.program} setting (known keys: ${Object.keys(definition.keys).join(", ")})`,
        { key },
      );
    }
  }
}

function pickSource(
  key: string,
  spec: KeySpec,
  sources: ConfigSources,
  entries:
    { own: ReadonlyMap<string, IniEntry>; defaults: ReadonlyMap<string, IniEntry> } | undefined,
  path: string | undefined,
): Source {
  const flag = sources.flags?.[key];
  if (flag !== undefined) return { text: flag, shown: `${flagName(key)} ${JSON.stringify(flag)}` };
  const envValue = spec.env === undefined ? undefined : sources.env?.[spec.env];
  if (spec.env !== undefined && envValue !== undefined && envValue !== "") {
    return { text: envValue, shown: `${spec.env}=${JSON.stringify(envValue)}` };
  }
  if (entries !== undefined && path !== undefined) {
    for (const name of [key, ...(spec.aliases ?? [])]) {
      const entry = entries.own.get(name) ?? entries.defaults.get(name);
      if (entry !== undefined) {
        return {
          text: entry.value,
          shown: `${locationPrefix(path, entry.line)}${name} = ${JSON.stringify(entry.value)}`,
          path,
          line: entry.line,
        };
      }
    }
  }
  const text = defaultText(spec);
  return { text, shown: `default ${key} = ${JSON.stringify(text)}` };
}
