import { ConfigError, locationPrefix } from "./errors.js";

/** One key of a parsed file: its value (after interpolation) and the line it starts on. */
export interface IniEntry {
  readonly value: string;
  /** 1-based line of `key = value` (a continued value keeps its first line). */
  readonly line: number;
}

/** One `[section]`: lower-cased key → entry. */
export type IniSection = ReadonlyMap<string, IniEntry>;

/** A parsed config file. */
export interface IniDocument {
  /** The file the text came from (named in every error). */
  readonly path: string;
  /** Every section except {@link DEFAULT_SECTION}, by its exact (case-sensitive) name. */
  readonly sections: ReadonlyMap<string, IniSection>;
  /** The keys of {@link DEFAULT_SECTION}: interpolation sources and fallbacks of every section. */
  readonly defaults: IniSection;
  /** The line of each section's first header, for errors about a whole section. */
  readonly sectionLines: ReadonlyMap<string, number>;
  /** Names some value refers to with `%(name)s`: what a [DEFAULT] key is there for. */
  readonly referenced: ReadonlySet<string>;
}

/** Options of {@link parseIni}. */
export interface ParseIniOptions {
  /** The section the program reads, named in the fix for a key above every header. */
  readonly section?: string;
}

/** ConfigParser's section whose keys every other section inherits. */
export const DEFAULT_SECTION = "DEFAULT";

interface RawEntry {
  value: string;
  line: number;
}

/**
 * Parses the dialect of Python's ConfigParser that the seed's (and old osad's) files are
 * written in, so existing files keep working: `[section]`, `key = value` or `key: value`,
 * `#`/`;` comment lines, ` ;` inline comments, indented continuation lines, case-folded keys,
 * `%(key)s` interpolation from the same section or `[DEFAULT]`, `%%` for a literal `%`, and
 * `""` for an empty value. Unlike ConfigParser it refuses what it does not understand —
 * broken headers, lines without `=`, duplicate keys, a lone `%` — with the file and line,
 * so a broken file fails loudly instead of being half-read.
 * @throws {ConfigError} naming path, line and (where there is one) key.
 */
export function parseIni(text: string, path: string, options: ParseIniOptions = {}): IniDocument {
  const sections = new Map<string, Map<string, RawEntry>>();
  const sectionLines = new Map<string, number>();
  let section: Map<string, RawEntry> | undefined;
  let last: RawEntry | undefined;
  const fail = (line: number, message: string, key?: string): never => {
    throw new ConfigError(`${locationPrefix(path, line)}${message}`, {
      path,
      line,
      ...(key === undefined ? {} : { key }),
    });
  };

  text.split(/\r?\n/).forEach((line, index) => {
    const number = index + 1;
    if (/^\s*([#;]|$)/.test(line)) return;
    if (/^\s/.test(line)) {
      // ConfigParser continues the previous value on an indented line.
      if (last === undefined)
        fail(number, "indented line continues nothing; remove the indentation");
      else last.value = `${last.value}\n${stripInlineComment(line.trim())}`;
      return;
    }
    if (line.startsWith("[") || /^[^=:]*\]\s*$/.test(line)) {
      const header = /^\[([^\]]*)\]\s*([#;].*)?$/.exec(line.trimEnd());
      const name = header?.[1]?.trim() ?? "";
      if (header === null || name === "") {
        fail(number, `malformed section header ${quote(line)}: write it as [name]`);
      }
      section = sections.get(name) ?? new Map<string, RawEntry>();
      sections.set(name, section);
      if (!sectionLines.has(name)) sectionLines.set(name, number);
      last = undefined;
      return;
    }
    const delimiter = line.search(/[=:]/);
    if (delimiter <= 0) fail(number, `expected "key = value" or "[section]", got ${quote(line)}`);
    const key = line.slice(0, delimiter).trim().toLowerCase();
    if (section === undefined) {
      const header = options.section === undefined ? "its section header" : `[${options.section}]`;
      return fail(
        number,
        `key "${key}" before any section header: put ${header} on a line above it`,
        key,
      );
    }
    if (section.has(key)) fail(number, `duplicate key "${key}": keep only one`, key);
    const value = stripInlineComment(line.slice(delimiter + 1).trim());
    last = { value: value === '""' ? "" : value, line: number };
    section.set(key, last);
  });

  const rawDefaults = sections.get(DEFAULT_SECTION) ?? new Map<string, RawEntry>();
  sections.delete(DEFAULT_SECTION);
  const interpolator = new Interpolator(path);
  const defaults = interpolator.section(rawDefaults, new Map());
  const resolved = new Map<string, IniSection>();
  for (const [name, entries] of sections) {
    resolved.set(name, interpolator.section(entries, rawDefaults));
  }
  return { path, sections: resolved, defaults, sectionLines, referenced: interpolator.referenced };
}

/** ConfigParser treats ` ;` (a semicolon after white space) as the start of an inline comment. */
function stripInlineComment(value: string): string {
  const match = /\s;/.exec(value);
  return match ? value.slice(0, match.index).trimEnd() : value;
}

/** `%(name)s` and `%%` expansion with ConfigParser's (SafeConfigParser's) rules. */
class Interpolator {
  readonly referenced = new Set<string>();

  constructor(private readonly path: string) {}

  section(
    entries: ReadonlyMap<string, RawEntry>,
    defaults: ReadonlyMap<string, RawEntry>,
  ): IniSection {
    const out = new Map<string, IniEntry>();
    for (const [key, entry] of entries) {
      out.set(key, { value: this.expand(entries, defaults, key, []), line: entry.line });
    }
    return out;
  }

  private expand(
    entries: ReadonlyMap<string, RawEntry>,
    defaults: ReadonlyMap<string, RawEntry>,
    key: string,
    seen: readonly string[],
  ): string {
    const entry = entries.get(key) ?? defaults.get(key);
    if (entry === undefined) return "";
    const first = seen[0] ?? key;
    const where = { path: this.path, line: entry.line, key: first };
    if (seen.includes(key)) {
      throw new ConfigError(
        `${locationPrefix(this.path, entry.line)}"${first}" refers to itself through %(${key})s: remove the loop`,
        where,
      );
    }
    return entry.value.replace(
      /%(%|\(([^)]*)\)s|.?)/g,
      (match: string, _all: string, ref?: string) => {
        if (match === "%%") return "%";
        if (ref === undefined) {
          throw new ConfigError(
            `${locationPrefix(this.path, entry.line)}"${key}" has a lone "%": write %% for a percent sign or %(name)s for another key's value`,
            { path: this.path, line: entry.line, key },
          );
        }
        const name = ref.toLowerCase();
        this.referenced.add(name);
        if (!entries.has(name) && !defaults.has(name)) {
          throw new ConfigError(
            `${locationPrefix(this.path, entry.line)}"${key}" uses %(${name})s but no "${name}" is set in that section or [${DEFAULT_SECTION}]: set it or write the value out`,
            { path: this.path, line: entry.line, key },
          );
        }
        return this.expand(entries, defaults, name, [...seen, key]);
      },
    );
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
