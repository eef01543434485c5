import { Option, type Command } from "commander";
import {
  camelCase,
  defaultText,
  flagName,
  type ConfigDefinition,
  type KeySpec,
} from "./config-schema.js";

function isFlagType(spec: KeySpec): boolean {
  return spec.type.name === "flag";
}

/**
 * Adds one `--kebab-case` option per config key to a commander command: `--key <value>`,
 * and for 0/1 keys `--key [0|1]` where the bare flag means 1.
 */
export function addConfigOptions(command: Command, definition: ConfigDefinition): Command {
  for (const [key, spec] of Object.entries(definition.keys)) {
    const shownDefault =
      typeof spec.default === "function" ? "computed" : JSON.stringify(defaultText(spec));
    const doc = `${spec.doc} [${key}, default ${shownDefault}]`;
    command.addOption(
      isFlagType(spec)
        ? new Option(`${flagName(key)} [0|1]`, `${doc}; the bare flag means 1`)
        : new Option(`${flagName(key)} <value>`, doc),
    );
  }
  return command;
}

/**
 * The config values commander parsed (options added by {@link addConfigOptions}), as raw
 * text keyed by INI key, ready for `flags` of resolveConfig/loadConfig.
 */
export function configFlagValues(
  definition: ConfigDefinition,
  options: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const key of Object.keys(definition.keys)) {
    // commander camel-cases `--rhn-check-command` exactly as camelCase() does the key.
    const value = options[camelCase(key)];
    if (value === undefined || value === false) continue;
    flags[key] = value === true ? "1" : String(value);
  }
  return flags;
}
