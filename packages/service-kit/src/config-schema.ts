import type { ValueType } from "./value-types.js";

/** How one INI key is typed, defaulted and documented. */
export interface KeySpec<T = unknown> {
  readonly type: ValueType<T>;
  /** The default exactly as it would be written in the file; a function when computed at load (e.g. the host name). */
  readonly default: string | (() => string);
  /** One line for `--help` and the README. */
  readonly doc: string;
  /** True for the seed's own keys, false for osad2's additions. */
  readonly seed: boolean;
  /** Other names the file may use for this key (an old spelling); the key's own name wins. */
  readonly aliases?: readonly string[];
  /** An environment variable that overrides the file (a flag still wins). */
  readonly env?: string;
  /** A value to suggest in messages instead of the default. */
  readonly example?: string;
}

/** Every key of one config section, by INI (snake_case) name. */
export type ConfigSchema = { readonly [key: string]: KeySpec };

/** One program's config file: the section it reads and its keys. */
export interface ConfigDefinition<S extends ConfigSchema = ConfigSchema> {
  /** The program, named in messages: `osad2-client`. */
  readonly program: string;
  /** The one section holding every key: `osad`, `main`. */
  readonly section: string;
  /** Whether a file without that section is an error (otherwise every key has its default). */
  readonly sectionRequired: boolean;
  readonly keys: S;
  /** Keys old files contain that are accepted and ignored; every other unknown key is an error. */
  readonly ignoredKeys?: readonly string[];
  /** What to tell the user when the named config file does not exist. Default "create it or pass --config FILE". */
  readonly missingFileHint?: string;
}

/** `rhn_check_command` → `rhnCheckCommand`, as a type. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** The value type of one key spec. */
export type ValueOf<K> = K extends KeySpec<infer T> ? T : never;

/** The typed config object of a schema: one camelCase field per key. */
export type ConfigValues<S extends ConfigSchema> = {
  readonly [K in keyof S & string as CamelCase<K>]: ValueOf<S[K]>;
};

/** Declares a config definition, keeping the exact key types for {@link ConfigValues}. */
export function defineConfig<const S extends ConfigSchema>(
  definition: ConfigDefinition<S>,
): ConfigDefinition<S> {
  return definition;
}

/** `rhn_check_command` → `rhnCheckCommand`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** `rhn_check_command` → `--rhn-check-command`. */
export function flagName(key: string): string {
  return `--${key.replace(/_/g, "-")}`;
}

/** The default of a key as text (computed now when it is a function). */
export function defaultText(spec: KeySpec): string {
  return typeof spec.default === "function" ? spec.default() : spec.default;
}
