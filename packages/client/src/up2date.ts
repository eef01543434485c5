import { readFile } from "node:fs/promises";
import { ConfigError, errnoCode } from "@osad2/service-kit";

/** Default location of the Spacewalk client's own configuration. */
export const DEFAULT_UP2DATE_PATH = "/etc/sysconfig/rhn/up2date";

/** What osad2 takes from up2date's configuration. */
export interface Up2dateSettings {
  /** `serverURL`: the first of its `;`-separated URLs, or undefined when unset. */
  readonly serverUrl: string | undefined;
  /** `sslCACert`: every CA file it lists (up2date allows a `;`-separated list). */
  readonly sslCaCerts: readonly string[];
}

/**
 * Parses up2date's format: `key=value` lines, each usually preceded by a
 * `key[comment]=…` line describing it, `#` comments, no sections.
 */
export function parseUp2date(text: string): Up2dateSettings {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue; // up2date itself skips such lines
    const key = line.slice(0, eq).trim();
    if (key.endsWith("[comment]")) continue;
    values.set(key, line.slice(eq + 1).trim());
  }
  const list = (key: string): string[] =>
    (values.get(key) ?? "")
      .split(";")
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
  return { serverUrl: list("serverURL")[0], sslCaCerts: list("sslCACert") };
}

/** Reads up2date's file; a missing file is undefined (the caller decides whether it matters). */
export async function readUp2date(path: string): Promise<Up2dateSettings | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw new ConfigError(
      `cannot read ${path} (${errnoCode(error) ?? String(error)}): run as root or fix its permissions`,
      { path },
      { cause: error },
    );
  }
  return parseUp2date(text);
}
