import { DEFAULT_LISTENER_PORT, DEFAULT_PUBLISHER_PORT } from "@osad2/protocol";

/** Default path of the client config file (`[osad]` section). */
export const DEFAULT_CONFIG_PATH = "/etc/rhn/osad2-client/osad_client.cfg";
/** The section the seed's client reads. */
export const CONFIG_SECTION = "osad";

/** How a value is written in the file and what it becomes. */
export type ValueType =
  /** a file or directory path; must not be empty */
  | "path"
  /** a path, or empty for "none / derive it" */
  | "optional-path"
  /** an http(s) URL, or empty for "derive it" */
  | "optional-url"
  /** a host name or address, or empty for "derive it" */
  | "optional-host"
  /** a command line, split into argv without a shell */
  | "command"
  /** seconds, fractions allowed, ≥ 0 */
  | "seconds"
  /** seconds, fractions allowed, > 0 */
  | "positive-seconds"
  /** a whole number ≥ 0 */
  | "count"
  /** a TCP port 1-65535 */
  | "port"
  /** 0/1 (also true/false, yes/no, on/off) */
  | "flag";

export interface KeySpec {
  readonly type: ValueType;
  /** The default exactly as it would be written in the file. */
  readonly default: string;
  /** One line for `--help` and the README. */
  readonly doc: string;
  /** true for the seed's own keys, false for osad2's additions. */
  readonly seed: boolean;
}

/**
 * The one schema of the client config: every `[osad]` key, its type, default and meaning.
 * The ClientConfig type, validation, CLI flags (`--kebab-case`) and the README table all come
 * from here.
 */
export const CONFIG_SCHEMA = {
  systemid: {
    type: "path",
    default: "/etc/sysconfig/rhn/systemid",
    doc: "Spacewalk systemid file sent to register_osad; a change triggers re-registration",
    seed: true,
  },
  rhn_check_command: {
    type: "command",
    default: "/usr/sbin/rhn_check",
    doc: "command run on checkin, split into argv without a shell; -vvv is added when debug_level > 0",
    seed: true,
  },
  certificates: {
    type: "path",
    default: "/etc/rhn/osad2-client/certs",
    doc: "directory of the key files; relative key paths below are taken from here",
    seed: true,
  },
  server_public_key: {
    type: "path",
    default: "server.key",
    doc: "server public certificate; if the file is absent, the key from the registration reply is used",
    seed: true,
  },
  client_secret_key: {
    type: "path",
    default: "client.key_secret",
    doc: "this client's secret certificate (mode 0600)",
    seed: true,
  },
  registry_interval: {
    type: "positive-seconds",
    default: "20",
    doc: "seconds between registration attempts after a failure (plus up to 50% jitter)",
    seed: true,
  },
  debug_level: {
    type: "count",
    default: "0",
    doc: "0 = info logs; > 0 = debug logs and rhn_check -vvv",
    seed: true,
  },
  logfile: {
    type: "optional-path",
    default: "",
    doc: "log file (JSON lines); empty = standard output",
    seed: true,
  },
  pidfile: {
    type: "optional-path",
    default: "",
    doc: "pid file written by `run` (the seed used /var/run/osad-client.pid); empty = none, as systemd needs none",
    seed: true,
  },
  up2date: {
    type: "path",
    default: "/etc/sysconfig/rhn/up2date",
    doc: "up2date config, read for serverURL and sslCACert",
    seed: false,
  },
  server_url: {
    type: "optional-url",
    default: "",
    doc: "register_osad XML-RPC URL; empty = up2date's serverURL",
    seed: false,
  },
  ca_cert: {
    type: "optional-path",
    default: "",
    doc: "CA file for https registration; empty = up2date's sslCACert (or the seed's osa_ssl_cert)",
    seed: false,
  },
  server_host: {
    type: "optional-host",
    default: "",
    doc: "host to connect to when the reply names none; empty = host of server_url",
    seed: false,
  },
  publisher_port: {
    type: "port",
    default: String(DEFAULT_PUBLISHER_PORT),
    doc: "server PUB port, used when the reply has no publisher-endpoint",
    seed: false,
  },
  listener_port: {
    type: "port",
    default: String(DEFAULT_LISTENER_PORT),
    doc: "server ROUTER port, used when the reply has no listener-endpoint",
    seed: false,
  },
  jitter: {
    type: "seconds",
    default: "0",
    doc: "random delay 0..jitter seconds before each rhn_check, to spread a mass action's load",
    seed: false,
  },
  rhn_check_timeout: {
    type: "positive-seconds",
    default: "1800",
    doc: "seconds before a hung rhn_check and its whole process group are killed",
    seed: false,
  },
  run_at_start: {
    type: "flag",
    default: "1",
    doc: "run rhn_check once at start-up, as the old osad did after a reboot",
    seed: false,
  },
  state_file: {
    type: "path",
    default: "/var/lib/osad2-client/state.json",
    doc: "JSON state (registration, connection, last run) that `osad2-client status` prints",
    seed: false,
  },
} as const satisfies Record<string, KeySpec>;

/** A key of the `[osad]` section. */
export type ConfigKey = keyof typeof CONFIG_SCHEMA;

/**
 * Keys the seed's (and old osad's) shipped files contain that osad2 does not use. They are
 * accepted so those files keep working; every other unknown key is an error (typos must not
 * pass silently). `osa_ssl_cert` is honoured as an alias of ca_cert.
 */
export const LEGACY_KEYS: readonly string[] = [
  "server_handler",
  "proto",
  "osa_ssl_cert",
  "max_time_drift",
  "run_rhn_check",
  "enable_failover",
  "enableproxy",
  "enableproxyauth",
  "httpproxy",
  "proxyuser",
  "proxypassword",
  "tmp_dir",
];

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type ValueOf<T extends ValueType> = T extends "seconds" | "positive-seconds" | "count" | "port"
  ? number
  : T extends "flag"
    ? boolean
    : T extends "command"
      ? readonly string[]
      : string;

/** The values of every key, camelCased, as parsed from file, flags and defaults. */
export type ConfigValues = {
  readonly [K in ConfigKey as CamelCase<K>]: ValueOf<(typeof CONFIG_SCHEMA)[K]["type"]>;
};

/** Converts `rhn_check_command` to `rhnCheckCommand`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Converts `rhn_check_command` to `--rhn-check-command`. */
export function flagName(key: string): string {
  return `--${key.replace(/_/g, "-")}`;
}
