import { hostname } from "node:os";
import { DEFAULT_PROXY_PORT } from "@osad2/protocol";
import { defineConfig, valueTypes, type ConfigValues, type ValueType } from "@osad2/service-kit";

/** Where `osad2-server` looks for its configuration when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = "/etc/rhn/osad2-server/osad_server.cfg";
/** The INI section holding every key (the seed's). */
export const CONFIG_SECTION = "main";
/** Environment variable that overrides `database` from the file (a flag still wins). */
export const DATABASE_ENV = "OSAD2_DATABASE";

/** Intervals: fractions allowed, at most a day. */
const interval = valueTypes.secondsBetween(0.01, 86_400);

/** notify_threshold: a count, or empty for unlimited as osa-dispatcher reads an unset threshold. */
const threshold: ValueType<number> = {
  name: "count",
  expected: "a whole number from 0 to 1000000, or nothing (unlimited)",
  parse: (text) => (text.trim() === "" ? 0 : valueTypes.countBetween(0, 1_000_000).parse(text)),
  accepts: (value) => valueTypes.countBetween(0, 1_000_000).accepts(value),
};

/** `*`, an IP address or a host name — or empty for "same as another key". */
const optionalBindAddress: ValueType<string> = {
  name: "address",
  expected: "* or an IP address or host name, or nothing",
  parse: (text) => (text === "" ? "" : valueTypes.bindAddress.parse(text)),
  accepts: (value) => value === "" || valueTypes.bindAddress.accepts(value),
};

/**
 * The one schema of the server config: every `[main]` key (snake_case in the file,
 * camelCase in {@link ServerConfig}, `--kebab-case` on the command line), its type, default
 * and meaning. Validation, flags and the README table all come from here.
 */
export const SERVER_CONFIG = defineConfig({
  program: "osad2-server",
  section: CONFIG_SECTION,
  // The default path may be absent (every key then has its default), and so may [main].
  sectionRequired: false,
  missingFileHint: "create it (osad2-packager createserver writes one) or pass --config FILE",
  keys: {
    bind: {
      type: valueTypes.bindAddress,
      default: "*",
      doc: "address of the PUB and ROUTER sockets (* = all interfaces)",
      seed: true,
    },
    publisher_port: {
      type: valueTypes.portOrZero,
      default: "5555",
      doc: "PUB port: pings and checkins go out here (0 = any free port)",
      seed: true,
    },
    listener_port: {
      type: valueTypes.portOrZero,
      default: "5556",
      doc: "ROUTER port: pongs and hellos come in here, routing id = client name (0 = any free port)",
      seed: true,
    },
    proxy_port: {
      type: valueTypes.portOrZero,
      default: String(DEFAULT_PROXY_PORT),
      doc: "proxy port: osad2 proxies (keys in proxies/) link here and carry their clients (0 = any free port)",
      seed: false,
    },
    ping_interval: {
      type: interval,
      default: "10",
      doc: "seconds between presence pings",
      seed: true,
    },
    action_poll_interval: {
      type: interval,
      default: "5",
      doc: "seconds between database polls (the fallback behind NOTIFY, the SQLite file watch and the exact timers) and web-UI ping checks",
      seed: true,
    },
    notify_threshold: {
      type: threshold,
      default: "100",
      doc: "systems with actions running (picked up) or asked and not yet picked up, at most; osa-dispatcher's notify_threshold (empty or 0 = unlimited)",
      seed: true,
      // The seed's name for it.
      aliases: ["checkin_count"],
    },
    certificates: {
      type: valueTypes.path,
      default: "/etc/rhn/osad2-server/certs",
      doc: "key store: private_keys/server.key_secret, allow-list public_keys/*.key, revoked/",
      seed: true,
    },
    log_file: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "JSON log file; empty = standard output",
      seed: true,
    },
    debug: {
      type: valueTypes.flag,
      default: "0",
      doc: "debug logging",
      seed: true,
    },
    pidfile: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "pid file while running; empty = none",
      seed: true,
    },
    database: {
      type: valueTypes.matching(
        "database URL",
        /^(sqlite:.+|postgres(ql)?:\/\/.+)$/,
        "sqlite:/path/osad2.db, sqlite::memory: or postgres://user@host:5432/dbname",
      ),
      default: "sqlite:/var/lib/osad2/osad2.db",
      doc: "the Spacewalk database: sqlite:/path, sqlite::memory: or postgres://user@host:port/db",
      seed: false,
      env: DATABASE_ENV,
    },
    database_schema: {
      type: valueTypes.matching(
        "identifier",
        /^([A-Za-z_][A-Za-z0-9_$]{0,62})?$/,
        "a PostgreSQL schema name (letters, digits, _ and $) or nothing",
        "rhnschema",
      ),
      default: "",
      doc: "PostgreSQL search_path holding the Spacewalk tables; empty = the server's default",
      seed: false,
    },
    xmlrpc_port: {
      type: valueTypes.portOrZero,
      default: "5557",
      doc: "register_osad endpoint, path /XMLRPC (0 = off)",
      seed: false,
    },
    xmlrpc_bind: {
      type: optionalBindAddress,
      default: "",
      doc: "address of the XML-RPC endpoint; empty = bind",
      seed: false,
    },
    public_host: {
      type: valueTypes.host,
      default: () => hostname(),
      doc: "host clients connect to: jabber-server and the endpoints in the register_osad reply; default this host's name",
      seed: false,
    },
    failover_servers: {
      type: valueTypes.optionalHostList,
      default: "",
      doc: "PostgreSQL failover: every server of the set (this one too) as clients reach it, comma-separated host or host:port (ROUTER port; default listener_port); register_osad lists them all as listener-endpoints; empty = this server only",
      seed: false,
    },
    tls_cert: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "PEM certificate: XML-RPC over HTTPS (set tls_key too); empty = plain HTTP",
      seed: false,
    },
    tls_key: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "PEM private key of tls_cert",
      seed: false,
    },
    renotify_interval: {
      type: interval,
      default: "60",
      doc: "a still-due action is announced again after this many seconds",
      seed: false,
    },
    renotify_picked_up: {
      type: valueTypes.flag,
      default: "0",
      doc: "re-announce picked-up work too (due = status in (0, 1), as osa-dispatcher does): an action rhn_check picked up and never finished is announced again each renotify_interval",
      seed: false,
    },
    allow_unsigned_clients: {
      type: valueTypes.flag,
      default: "0",
      doc: "accept the seed's unsigned wire format (routing id = client name, unsigned ping echo): RISK — then any holder of an allowed key can mark any system online, receive its checkins and displace its connection; only while seed clients are migrated",
      seed: false,
    },
    missed_pings: {
      type: valueTypes.countBetween(1, 1_000_000),
      default: "3",
      doc: "unanswered pings in a row before an online client goes offline",
      seed: false,
    },
    last_message_refresh: {
      type: interval,
      default: "60",
      doc: "an online client that keeps answering gets its last_message_time rewritten at most this often (seconds); all clients due are written in one statement per ping round",
      seed: false,
    },
    state_dir: {
      type: valueTypes.path,
      default: "/var/lib/osad2",
      doc: "local state: managed-clients.json, the push clients whose presence this server keeps (in a mixed fleet, rows of osa-dispatcher's clients are never touched); key-usage.json, which system each client key belongs to; control.sock, where doctor and systems ask the running server",
      seed: false,
    },
    metrics_port: {
      type: valueTypes.portOrZero,
      default: "9557",
      doc: "/metrics and /healthz (0 = off)",
      seed: false,
    },
    metrics_bind: {
      type: valueTypes.bindAddress,
      default: "127.0.0.1",
      doc: "address of /metrics and /healthz",
      seed: false,
    },
  },
});

/** Every `[main]` key by name (the keys of {@link SERVER_CONFIG}). */
export const SERVER_CONFIG_SCHEMA = SERVER_CONFIG.keys;

/** A key of the `[main]` section. */
export type ServerConfigKey = keyof typeof SERVER_CONFIG_SCHEMA;

/**
 * The server configuration: one camelCase field per `[main]` key (`publisher_port` →
 * `publisherPort`); intervals in seconds as in the file.
 */
export type ServerConfig = ConfigValues<typeof SERVER_CONFIG_SCHEMA>;
