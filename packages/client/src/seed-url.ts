import { ConfigError } from "@osad2/service-kit";
import { readUp2date } from "./up2date.js";

/**
 * The names the seed's shipped config builds its URL from:
 * `server_url = %(proto)s://%(server_name)s%(server_handler)s`. The seed's program supplied
 * whichever of them the file leaves unset, from up2date's serverURL; osad2 does the same.
 */
export const SEED_URL_PARTS = ["proto", "server_name", "server_handler"] as const;

export type SeedUrlPart = (typeof SEED_URL_PARTS)[number];

/** proto, server_name (host[:port]) and server_handler (path) of a URL such as up2date's serverURL. */
export function seedUrlParts(url: string): Readonly<Record<SeedUrlPart, string>> {
  const parsed = new URL(url);
  return {
    proto: parsed.protocol.replace(/:$/, ""),
    server_name: parsed.host,
    server_handler: parsed.pathname,
  };
}

const REFERENCE = /%\((proto|server_name|server_handler)\)s/;

/** Whether the file sets `name` itself, in any section (then its own value is used). */
function setsKey(text: string, name: string): boolean {
  return new RegExp(`^[ \\t]*${name}[ \\t]*[=:]`, "m").test(text);
}

/**
 * Where the parts the file does not set come from: up2date's serverURL (an error when it has
 * none), or placeholders for a command that never uses server_url (`status`).
 */
export type SeedPartsSource = "up2date" | "placeholders";

/** Parts that only satisfy the interpolation; `.invalid` can never resolve (RFC 2606). */
const PLACEHOLDER_PARTS: Readonly<Record<SeedUrlPart, string>> = {
  proto: "https",
  server_name: "up2date-unavailable.invalid",
  server_handler: "/XMLRPC",
};

/**
 * What to append to a config file's text so its `%(proto)s`, `%(server_name)s` and
 * `%(server_handler)s` resolve: a `[DEFAULT]` section with the parts the file does not set,
 * taken from up2date's serverURL. Appended, so every line number in messages stays the file's.
 * Empty when the file refers to none of them.
 * @throws {ConfigError} when the file needs a part that up2date cannot give.
 */
export async function seedUrlDefaults(
  text: string,
  configPath: string,
  up2datePath: string,
  source: SeedPartsSource = "up2date",
): Promise<string> {
  if (!REFERENCE.test(text)) return "";
  const missing = SEED_URL_PARTS.filter((name) => !setsKey(text, name));
  if (missing.length === 0) return "";
  const up2date = await readUp2date(up2datePath).catch((error: unknown) => {
    if (source === "placeholders") return undefined;
    throw error;
  });
  const serverUrl = up2date?.serverUrl;
  let parts: Readonly<Record<SeedUrlPart, string>> | undefined;
  try {
    parts = serverUrl === undefined ? undefined : seedUrlParts(serverUrl);
  } catch {
    parts = undefined;
  }
  if (parts === undefined && source === "placeholders") parts = PLACEHOLDER_PARTS;
  if (parts === undefined) {
    throw new ConfigError(
      `${configPath} builds server_url from %(${missing.join(")s, %(")})s, which osad2 takes from up2date's serverURL, but ${up2datePath} ${up2date === undefined ? "was not found" : serverUrl === undefined ? "has no serverURL" : `has serverURL ${JSON.stringify(serverUrl)}, not a URL`}: register this system (rhnreg_ks) or set server_url in ${configPath}`,
      { path: configPath, key: "server_url" },
    );
  }
  const lines = missing.map((name) => `${name} = ${parts[name].replace(/%/g, "%%")}`);
  return `${text.endsWith("\n") ? "" : "\n"}[DEFAULT]\n${lines.join("\n")}\n`;
}
