import { isIP } from "node:net";
import { splitCommandLine } from "./command-line.js";

/** How one kind of config value is written as text and what it becomes. */
export interface ValueType<T> {
  /** Short name for the docs table: `port`, `seconds` … */
  readonly name: string;
  /** What a valid value is, for messages: `a TCP port (1-65535)`. */
  readonly expected: string;
  /** A value to suggest in messages when the key's default is empty. */
  readonly example?: string;
  /** Text from a file, flag or environment (already trimmed) → value; undefined when invalid. */
  parse(text: string): T | undefined;
  /** Whether a value handed in by library code (not text) is valid. */
  accepts(value: unknown): boolean;
}

/**
 * The one number syntax of every config file and flag: optional sign, digits, optional
 * fraction (`5`, `0.5`, `.5`, `+3`, `-1`); no exponent, hex or separators.
 */
export const NUMBER_SYNTAX = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Text in {@link NUMBER_SYNTAX} → number; undefined for anything else. */
export function parseNumber(text: string): number | undefined {
  return NUMBER_SYNTAX.test(text) ? Number(text) : undefined;
}

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

function numeric(name: string, expected: string, ok: (n: number) => boolean): ValueType<number> {
  return {
    name,
    expected,
    parse(text) {
      const n = parseNumber(text);
      return n !== undefined && ok(n) ? n : undefined;
    },
    accepts: (value) => typeof value === "number" && Number.isFinite(value) && ok(value),
  };
}

function text(
  name: string,
  expected: string,
  ok: (value: string) => boolean,
  example?: string,
): ValueType<string> {
  return {
    name,
    expected,
    ...(example === undefined ? {} : { example }),
    parse: (value) => (ok(value) ? value : undefined),
    accepts: (value) => typeof value === "string" && ok(value),
  };
}

function isHost(value: string): boolean {
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (isIP(bare) !== 0) return true;
  return (
    bare.length <= 253 &&
    /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(bare)
  );
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const noNul = (value: string): boolean => !value.includes("\0");

/** One `host` or `host:port` of a {@link parseHostList} list; `host` without IPv6 brackets. */
export interface HostPort {
  readonly host: string;
  /** Undefined when the entry named no port (the key's doc says which port is meant then). */
  readonly port: number | undefined;
}

/**
 * `host[:port]` entries, comma-separated (spaces allowed around them): `a.example`,
 * `b.example:5556`, `10.0.0.1:5556`, `[::1]:5556`, `[::1]`. A bare IPv6 address without brackets
 * is one host (it cannot carry a port). Undefined when any entry is invalid or the list is empty.
 */
export function parseHostList(text: string): readonly HostPort[] | undefined {
  const entries = text.split(",").map((entry) => entry.trim());
  const out: HostPort[] = [];
  for (const entry of entries) {
    const parsed = parseHostPort(entry);
    if (parsed === undefined) return undefined;
    out.push(parsed);
  }
  return out.length > 0 ? out : undefined;
}

function parseHostPort(entry: string): HostPort | undefined {
  if (entry === "") return undefined;
  if (isIP(entry) === 6) return { host: entry, port: undefined };
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
  if (match === null) return undefined;
  const host = match[1] as string;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (!isHost(host) || (port !== undefined && (port < 1 || port > 65535))) return undefined;
  return { host: host.startsWith("[") ? host.slice(1, -1) : host, port };
}

/** `tcp://host:port` for ZeroMQ, with brackets around an IPv6 address. */
export function tcpEndpoint(host: string, port: number): string {
  return `tcp://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** Seconds, fractions allowed, between `min` and `max` inclusive. */
function secondsBetween(min: number, max: number): ValueType<number> {
  return numeric(
    "seconds",
    `a number of seconds from ${min} to ${max}`,
    (n) => n >= min && n <= max,
  );
}

/** A whole number between `min` and `max` inclusive. */
function countBetween(min: number, max: number): ValueType<number> {
  return numeric(
    "count",
    `a whole number from ${min} to ${max}`,
    (n) => Number.isInteger(n) && n >= min && n <= max,
  );
}

/** Text matching `pattern`, e.g. a database URL; `expected` says what that is. */
function matching(
  name: string,
  pattern: RegExp,
  expected: string,
  example?: string,
): ValueType<string> {
  return text(name, expected, (value) => pattern.test(value), example);
}

/**
 * Every value type server and client configs use. Keys pick one as `type`; the factories
 * (`secondsBetween`, `countBetween`, `matching`) make bounded or patterned variants.
 */
export const valueTypes = {
  /** Any text, including empty. */
  string: text("string", "text", () => true),
  /** Text that is not empty. */
  nonEmptyString: text("string", "a non-empty value", (value) => value !== ""),
  /** A file or directory path; not empty. */
  path: text("path", "a path", (value) => value !== "" && noNul(value)),
  /** A path, or empty for "none / derive it". */
  optionalPath: text("path", "a path or nothing", noNul),
  /** A host name or IP address (`[v6]` allowed). */
  host: text("host", "a host name or IP address", isHost, "server.example.com"),
  /** A host name or IP address, or empty for "derive it". */
  optionalHost: text(
    "host",
    "a host name or IP address, or nothing",
    (value) => value === "" || isHost(value),
    "server.example.com",
  ),
  /**
   * Comma-separated `host[:port]` entries ({@link parseHostList}), or empty (`[]`) for "derive
   * it"; e.g. `sw1.example.com, sw2.example.com:5556`.
   */
  optionalHostList: {
    name: "hosts",
    expected: "host names or IP addresses, each optionally :port, separated by commas; or nothing",
    example: "sw1.example.com,sw2.example.com:5556",
    parse(value: string): readonly HostPort[] | undefined {
      return value === "" ? [] : parseHostList(value);
    },
    accepts: (value: unknown) =>
      Array.isArray(value) &&
      value.every(
        (entry: unknown) =>
          typeof entry === "object" &&
          entry !== null &&
          typeof (entry as HostPort).host === "string" &&
          isHost((entry as HostPort).host) &&
          ((entry as HostPort).port === undefined || Number.isInteger((entry as HostPort).port)),
      ),
  } satisfies ValueType<readonly HostPort[]>,
  /** An address to bind to: `*` (every interface), an IP address or a host name. */
  bindAddress: text(
    "address",
    "* or an IP address or host name",
    (value) => value === "*" || isHost(value),
  ),
  /** An http:// or https:// URL. */
  url: text("url", "an http:// or https:// URL", isHttpUrl, "https://spacewalk.example.com/XMLRPC"),
  /** An http:// or https:// URL, or empty for "derive it". */
  optionalUrl: text(
    "url",
    "an http:// or https:// URL",
    (value) => value === "" || isHttpUrl(value),
    "https://spacewalk.example.com/XMLRPC",
  ),
  /** A command line, split into argv without a shell (see {@link splitCommandLine}). */
  command: {
    name: "command",
    expected: "a command line (quotes must be balanced)",
    parse(value: string): readonly string[] | undefined {
      const argv = splitCommandLine(value);
      return argv === undefined || argv.length === 0 ? undefined : argv;
    },
    accepts: (value: unknown) =>
      Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string"),
  } satisfies ValueType<readonly string[]>,
  /** Seconds ≥ 0, fractions allowed. */
  seconds: numeric("seconds", "a number of seconds ≥ 0", (n) => n >= 0),
  /** Seconds > 0, fractions allowed. */
  positiveSeconds: numeric("seconds", "a number of seconds > 0", (n) => n > 0),
  /** A whole number ≥ 0. */
  count: numeric("count", "a whole number ≥ 0", (n) => Number.isInteger(n) && n >= 0),
  /** A TCP port 1-65535. */
  port: numeric("port", "a TCP port (1-65535)", (n) => Number.isInteger(n) && n >= 1 && n <= 65535),
  /** A TCP port, or 0 (any free port, or off: the key's doc says which). */
  portOrZero: numeric(
    "port",
    "a TCP port (1-65535) or 0",
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
  ),
  /** 0/1, also true/false, yes/no, on/off (any case). */
  flag: {
    name: "flag",
    expected: "0 or 1",
    parse(value: string): boolean | undefined {
      const word = value.toLowerCase();
      if (TRUE_WORDS.includes(word)) return true;
      if (FALSE_WORDS.includes(word)) return false;
      return undefined;
    },
    accepts: (value: unknown) => typeof value === "boolean",
  } satisfies ValueType<boolean>,
  secondsBetween,
  countBetween,
  matching,
} as const;
