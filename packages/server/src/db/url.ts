import { DatabaseConfigError } from "./errors.js";

/** Where a store's data lives, parsed from the `database` setting. */
export type DatabaseTarget =
  | { readonly kind: "sqlite"; readonly filename: string; readonly display: string }
  | { readonly kind: "postgres"; readonly connectionString: string; readonly display: string };

/**
 * Parses `sqlite:/path/file.db`, `sqlite::memory:` or `postgres://user@host:port/db`
 * (also `postgresql://`; `postgres://user@/db?host=/var/run/postgresql` for the unix socket).
 * `display` is what error messages show: the file or `host:port/db` (the socket directory as
 * host), never a password.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const text = url.trim();
  if (text === "") {
    throw new DatabaseConfigError(
      "database",
      "empty; use sqlite:/var/lib/osad2/osad2.db or postgres://user@host:5432/db",
    );
  }
  if (text.startsWith("sqlite:")) {
    let filename = text.slice("sqlite:".length);
    // Accept sqlite:///abs/path too, as many tools write it.
    if (filename.startsWith("//")) filename = filename.slice(2);
    if (filename === "") {
      throw new DatabaseConfigError(
        "database",
        `"${url}" names no file; use sqlite:/path/osad2.db or sqlite::memory:`,
      );
    }
    return { kind: "sqlite", filename, display: filename };
  }
  if (text.startsWith("postgres://") || text.startsWith("postgresql://")) {
    // libpq's way to a unix socket: the directory in ?host= (pg reads it there and it wins over
    // any host in the authority), e.g. postgres://postgres@/spaceschema?host=/var/run/postgresql.
    const query = text.includes("?") ? text.slice(text.indexOf("?") + 1) : "";
    const params = new URLSearchParams(query);
    const socketDir = params.get("host") ?? "";
    let parsed: URL;
    try {
      // WHATWG URL refuses credentials without a host ("user@/db"), which pg accepts.
      parsed = new URL(socketDir !== "" ? text.replace("@/", "@localhost/") : text);
    } catch (error) {
      throw new DatabaseConfigError("database", `"${redact(text)}" is not a valid URL`, {
        cause: error,
      });
    }
    if (parsed.hostname === "" && socketDir === "") {
      throw new DatabaseConfigError(
        "database",
        `"${redact(text)}" names no host; use postgres://user@host:5432/db, or postgres://user@/db?host=/var/run/postgresql for the unix socket`,
      );
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
    const port = params.get("port") ?? (parsed.port || "5432");
    const host = socketDir !== "" ? socketDir : parsed.hostname;
    const display = `${host}:${port}${database ? `/${database}` : ""}`;
    return { kind: "postgres", connectionString: text, display };
  }
  throw new DatabaseConfigError(
    "database",
    `"${redact(text)}" has an unknown scheme; use sqlite:/path/osad2.db, sqlite::memory: or postgres://user@host:5432/db`,
  );
}

/** The URL with any password replaced, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
