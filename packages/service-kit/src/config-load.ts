import { readFile } from "node:fs/promises";
import type { ConfigDefinition, ConfigSchema, ConfigValues } from "./config-schema.js";
import { resolveConfig } from "./config-resolve.js";
import { errnoCode, describeError } from "./errno.js";
import { ConfigError } from "./errors.js";
import { parseIni, type IniDocument } from "./ini.js";

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The config file. */
  readonly path: string;
  /**
   * Whether a missing file is an error. Default true; false when the path is the program's
   * default and the program runs on defaults without a file.
   */
  readonly required?: boolean;
  /** Raw command-line values by INI key; they win over everything. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** Environment for keys with an `env` variable. Default none (pass process.env to use it). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A loaded configuration and where it came from. */
export interface LoadedConfig<S extends ConfigSchema> {
  readonly values: ConfigValues<S>;
  /** The file that was read. */
  readonly path: string;
  /** The parsed file; undefined when it did not exist and was not required. */
  readonly document: IniDocument | undefined;
}

/**
 * Reads and parses a config file; undefined when it is absent and not `required`.
 * @throws {ConfigError} for an unreadable file or bad INI, naming the file (and line).
 */
export async function readIniFile(
  path: string,
  required: boolean,
  missingFileHint = "create it or pass --config FILE",
  section?: string,
): Promise<IniDocument | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" && !required) return undefined;
    const fix = code === "ENOENT" ? missingFileHint : "run as root or fix its permissions";
    throw new ConfigError(
      `cannot read config file ${path} (${code ?? describeError(error)}): ${fix}`,
      { path },
      { cause: error },
    );
  }
  return parseIni(text, path, section === undefined ? {} : { section });
}

/**
 * Loads a program's configuration in one go: the file (strict INI), then environment, then
 * flags, over the defaults; every value validated.
 * @throws {ConfigError} naming file, line and key.
 */
export async function loadConfig<S extends ConfigSchema>(
  definition: ConfigDefinition<S>,
  options: LoadConfigOptions,
): Promise<LoadedConfig<S>> {
  const document = await readIniFile(
    options.path,
    options.required ?? true,
    definition.missingFileHint,
    definition.section,
  );
  const values = resolveConfig(definition, {
    ...(document === undefined ? {} : { document }),
    ...(options.flags === undefined ? {} : { flags: options.flags }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  return { values, path: options.path, document };
}
