import { hostname } from "node:os";
import { ConfigError } from "../errors.js";

/**
 * The server configuration: one field per INI key of `[main]` (camelCase here,
 * snake_case in the file, `--kebab-case` on the command line). Intervals are in
 * seconds as in the file; fractions are allowed.
 */
export interface ServerConfig {
  /** Address the PUB and ROUTER sockets bind to; `*` = all interfaces. INI `bind`, default `*`. */
  readonly bind: string;
  /** PUB port (`ping`, `system:<name> checkin`); 0 = any free port. INI `publisher_port`, default 5555. */
  readonly publisherPort: number;
  /** ROUTER port (ping answers, hellos); 0 = any free port. INI `listener_port`, default 5556. */
  readonly listenerPort: number;
  /** Seconds between presence pings. INI `ping_interval`, default 10. */
  readonly pingInterval: number;
  /** Seconds between database polls (fallback to LISTEN/NOTIFY and timers). INI `action_poll_interval`, default 5. */
  readonly actionPollInterval: number;
  /** Systems asked to check in and not done yet, at most; 0 = unlimited. INI `checkin_count`, default 100. */
  readonly checkinCount: number;
  /** Key store root (private_keys/, public_keys/, revoked/). INI `certificates`, default /etc/rhn/osad2-server/certs. */
  readonly certificates: string;
  /** JSON log file; empty = stdout. INI `log_file`, default empty. */
  readonly logFile: string;
  /** Debug logging. INI `debug` (0/1), default 0. */
  readonly debug: boolean;
  /** File holding the server's pid while it runs; empty = none. INI `pidfile`, default empty. */
  readonly pidfile: string;
  /** `sqlite:/path`, `sqlite::memory:` or `postgres://user@host:port/db`. INI `database`, default sqlite:/var/lib/osad2/osad2.db. */
  readonly database: string;
  /** PostgreSQL search_path holding the Spacewalk tables; empty = the server's default. INI `database_schema`. */
  readonly databaseSchema: string;
  /** XML-RPC registration port; 0 = off. INI `xmlrpc_port`, default 5557. */
  readonly xmlrpcPort: number;
  /** Address the XML-RPC endpoint binds to; empty = same as `bind`. INI `xmlrpc_bind`. */
  readonly xmlrpcBind: string;
  /** Host name clients connect to, returned as `jabber-server` and in the endpoints. INI `public_host`, default os.hostname(). */
  readonly publicHost: string;
  /** PEM certificate for XML-RPC over TLS; empty = plain HTTP. INI `tls_cert`. */
  readonly tlsCert: string;
  /** PEM private key for XML-RPC over TLS. INI `tls_key`. */
  readonly tlsKey: string;
  /** Seconds after which a still-due action is announced again. INI `renotify_interval`, default 60. */
  readonly renotifyInterval: number;
  /** Also re-announce picked-up (status 1) actions, as osa-dispatcher did. INI `renotify_picked_up` (0/1), default 0. */
  readonly renotifyPickedUp: boolean;
  /** Consecutive unanswered pings after which an online client goes offline. INI `missed_pings`, default 3. */
  readonly missedPings: number;
  /** Prometheus `/metrics` and `/healthz` port; 0 = off. INI `metrics_port`, default 9557. */
  readonly metricsPort: number;
  /** Address of the metrics endpoint. INI `metrics_bind`, default 127.0.0.1. */
  readonly metricsBind: string;
}

/** How one key is read, checked, defaulted and documented. */
export interface ConfigKeySpec<T> {
  /** The INI key, e.g. `publisher_port`. */
  readonly key: string;
  readonly doc: string;
  readonly defaultValue: () => T;
  /** Text (file, flag, environment) → value; throws ConfigError naming the key. */
  parse(raw: string): T;
  /** Returns a problem description, or undefined when the value is fine. */
  check(value: unknown): string | undefined;
}

function spec<T>(
  key: string,
  doc: string,
  defaultValue: T | (() => T),
  parse: (raw: string, key: string) => T,
  check: (value: unknown) => string | undefined,
): ConfigKeySpec<T> {
  return {
    key,
    doc,
    defaultValue:
      typeof defaultValue === "function" ? (defaultValue as () => T) : () => defaultValue,
    parse(raw) {
      const value = parse(raw.trim(), key);
      const problem = check(value);
      if (problem !== undefined) throw new ConfigError(key, `${JSON.stringify(raw)} ${problem}`);
      return value;
    },
    check,
  };
}

const checkString = (value: unknown): string | undefined =>
  typeof value === "string" ? undefined : "must be a string";

function str(
  key: string,
  doc: string,
  defaultValue: string | (() => string),
): ConfigKeySpec<string> {
  return spec(key, doc, defaultValue, (raw) => raw, checkString);
}

function nonEmpty(
  key: string,
  doc: string,
  defaultValue: string | (() => string),
): ConfigKeySpec<string> {
  return spec(
    key,
    doc,
    defaultValue,
    (raw) => raw,
    (v) => (typeof v === "string" && v.length > 0 ? undefined : "must be a non-empty string"),
  );
}

function toNumber(raw: string, key: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw))
    throw new ConfigError(key, `${JSON.stringify(raw)} is not a number`);
  return Number(raw);
}

function port(key: string, doc: string, defaultValue: number, zero: string): ConfigKeySpec<number> {
  return spec(key, `${doc} (0 = ${zero})`, defaultValue, toNumber, (v) =>
    typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535
      ? undefined
      : "must be a port number 0-65535",
  );
}

function seconds(key: string, doc: string, defaultValue: number): ConfigKeySpec<number> {
  return spec(key, doc, defaultValue, toNumber, (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0.01 && v <= 86_400
      ? undefined
      : "must be a number of seconds between 0.01 and 86400",
  );
}

function count(key: string, doc: string, defaultValue: number, min: number): ConfigKeySpec<number> {
  return spec(key, doc, defaultValue, toNumber, (v) =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= 1_000_000
      ? undefined
      : `must be a whole number between ${min} and 1000000`,
  );
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off", ""]);

function bool(key: string, doc: string, defaultValue: boolean): ConfigKeySpec<boolean> {
  return spec(
    key,
    doc,
    defaultValue,
    (raw, k) => {
      const text = raw.toLowerCase();
      if (TRUE.has(text)) return true;
      if (FALSE.has(text)) return false;
      throw new ConfigError(k, `${JSON.stringify(raw)} must be 0 or 1`);
    },
    (v) => (typeof v === "boolean" ? undefined : "must be true or false (0 or 1 in the file)"),
  );
}

function databaseUrl(key: string, doc: string, defaultValue: string): ConfigKeySpec<string> {
  return spec(
    key,
    doc,
    defaultValue,
    (raw) => raw,
    (v) =>
      typeof v === "string" && /^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v)
        ? undefined
        : "must look like sqlite:/path/osad2.db, sqlite::memory: or postgres://user@host:5432/dbname",
  );
}

/** Every key of the server configuration, in the order the README documents them. */
export const SERVER_CONFIG_SCHEMA: {
  readonly [K in keyof ServerConfig]: ConfigKeySpec<ServerConfig[K]>;
} = {
  bind: nonEmpty("bind", "Address the PUB and ROUTER sockets bind to; * = all interfaces", "*"),
  publisherPort: port("publisher_port", "PUB socket port", 5555, "any free port"),
  listenerPort: port("listener_port", "ROUTER socket port", 5556, "any free port"),
  pingInterval: seconds("ping_interval", "Seconds between presence pings", 10),
  actionPollInterval: seconds("action_poll_interval", "Seconds between database polls", 5),
  checkinCount: count(
    "checkin_count",
    "Systems asked to check in and not done yet, at most (0 = unlimited)",
    100,
    0,
  ),
  certificates: nonEmpty("certificates", "Key store directory", "/etc/rhn/osad2-server/certs"),
  logFile: str("log_file", "JSON log file (empty = stdout)", ""),
  debug: bool("debug", "Debug logging (0/1)", false),
  pidfile: str("pidfile", "Pid file (empty = none)", ""),
  database: databaseUrl("database", "Database URL", "sqlite:/var/lib/osad2/osad2.db"),
  databaseSchema: str("database_schema", "PostgreSQL search_path (empty = default)", ""),
  xmlrpcPort: port("xmlrpc_port", "XML-RPC registration port", 5557, "off"),
  xmlrpcBind: str("xmlrpc_bind", "XML-RPC bind address (empty = bind)", ""),
  publicHost: nonEmpty("public_host", "Host name clients connect to", () => hostname()),
  tlsCert: str("tls_cert", "PEM certificate for XML-RPC over TLS (empty = plain HTTP)", ""),
  tlsKey: str("tls_key", "PEM private key for XML-RPC over TLS", ""),
  renotifyInterval: seconds(
    "renotify_interval",
    "Seconds before a still-due action is announced again",
    60,
  ),
  renotifyPickedUp: bool("renotify_picked_up", "Also re-announce picked-up actions (0/1)", false),
  missedPings: count("missed_pings", "Unanswered pings before a client goes offline", 3, 1),
  metricsPort: port("metrics_port", "Prometheus /metrics and /healthz port", 9557, "off"),
  metricsBind: nonEmpty("metrics_bind", "Metrics bind address", "127.0.0.1"),
};

/** The camelCase field names, in schema order. */
export const SERVER_CONFIG_FIELDS = Object.keys(SERVER_CONFIG_SCHEMA) as (keyof ServerConfig)[];

/** INI key → field, e.g. `publisher_port` → `publisherPort`. */
export const FIELD_BY_INI_KEY: ReadonlyMap<string, keyof ServerConfig> = new Map(
  SERVER_CONFIG_FIELDS.map((field) => [SERVER_CONFIG_SCHEMA[field].key, field]),
);

/** `publisher_port` → `--publisher-port`. */
export function flagName(iniKey: string): string {
  return `--${iniKey.replace(/_/g, "-")}`;
}
