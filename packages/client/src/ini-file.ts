import { ConfigError } from "./errors.js";

/** One `[section]` of a config file: lower-cased key → raw value (after interpolation). */
export type IniSection = ReadonlyMap<string, string>;

/** A parsed file: section name → its keys. */
export type IniDocument = ReadonlyMap<string, IniSection>;

/**
 * Parses the dialect of Python's ConfigParser that the seed's (and old osad's) config files
 * are written in, so existing files keep working: `[section]`, `key = value` or `key: value`,
 * `#`/`;` comment lines, ` ;` inline comments, indented continuation lines, keys case-folded,
 * `%(key)s` interpolation within a section and `%%` for a literal percent sign.
 * Unlike the `ini` package this refuses what it does not understand, with the line number,
 * so a broken file fails loudly instead of being half-read.
 */
export function parseIni(text: string, path: string): IniDocument {
  const raw = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const where = `${path} line ${index + 1}`;
    if (/^\s*([#;]|$)/.test(line)) return;
    if (/^\s/.test(line)) {
      // Continuation of the previous value, as ConfigParser allows.
      if (section === undefined || lastKey === undefined) {
        throw new ConfigError(
          `${where}: indented line continues nothing — remove the indentation`,
          {
            path,
          },
        );
      }
      section.set(lastKey, `${section.get(lastKey) ?? ""}\n${stripComment(line.trim())}`);
      return;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      const name = (header[1] as string).trim();
      section = raw.get(name) ?? new Map<string, string>();
      raw.set(name, section);
      lastKey = undefined;
      return;
    }
    const delimiter = line.search(/[=:]/);
    if (delimiter <= 0) {
      throw new ConfigError(`${where}: expected "key = value" or "[section]", got ${quote(line)}`, {
        path,
      });
    }
    if (section === undefined) {
      throw new ConfigError(`${where}: key before any [section] — put it under [osad]`, { path });
    }
    const key = line.slice(0, delimiter).trim().toLowerCase();
    if (section.has(key)) {
      throw new ConfigError(`${where}: duplicate key "${key}" — keep only one`, { path, key });
    }
    section.set(key, stripComment(line.slice(delimiter + 1).trim()));
    lastKey = key;
  });

  const doc = new Map<string, IniSection>();
  for (const [name, values] of raw) {
    const resolved = new Map<string, string>();
    for (const key of values.keys()) resolved.set(key, interpolate(values, key, path, []));
    doc.set(name, resolved);
  }
  return doc;
}

/** ConfigParser (Python 2) treats ` ;` as the start of an inline comment. */
function stripComment(value: string): string {
  const match = /\s;/.exec(value);
  return match ? value.slice(0, match.index).trimEnd() : value;
}

function interpolate(
  values: ReadonlyMap<string, string>,
  key: string,
  path: string,
  seen: string[],
): string {
  if (seen.includes(key)) {
    throw new ConfigError(
      `${path}: "${seen[0]}" refers to itself through %(${key})s — remove the loop`,
      { path, key: seen[0] },
    );
  }
  const value = values.get(key) ?? "";
  return value.replace(/%(%|\(([^)]*)\)s)/g, (match: string, _all: string, ref?: string) => {
    if (match === "%%") return "%";
    const name = (ref ?? "").toLowerCase();
    if (!values.has(name)) {
      throw new ConfigError(
        `${path}: "${key}" uses %(${name})s but no "${name}" is set in that section — set it or write the value out`,
        { path, key },
      );
    }
    return interpolate(values, name, path, [...seen, key]);
  });
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
