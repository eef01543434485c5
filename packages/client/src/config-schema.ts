import { DEFAULT_LISTENER_PORT, DEFAULT_PUBLISHER_PORT } from "@osad2/protocol";
import { defineConfig, valueTypes, type ConfigValues as KitConfigValues } from "@osad2/service-kit";

/** Default path of the client config file (`[osad]` section). */
export const DEFAULT_CONFIG_PATH = "/etc/rhn/osad2-client/osad_client.cfg";
/** The section the seed's client reads. */
export const CONFIG_SECTION = "osad";

/**
 * Keys the seed's (and old osad's) shipped files contain that osad2 does not use. They are
 * accepted so those files keep working; every other unknown key is an error (typos must not
 * pass silently). The seed's `osa_ssl_cert` is read as an alias of ca_cert.
 */
export const LEGACY_KEYS: readonly string[] = [
  // The parts of the seed's server_url = %(proto)s://%(server_name)s%(server_handler)s.
  "server_handler",
  "proto",
  "server_name",
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

/**
 * The one schema of the client config: every `[osad]` key, its type, default and meaning.
 * The ClientConfig type, validation, CLI flags (`--kebab-case`), the shipped config template
 * and the README table all come from here.
 */
export const CLIENT_CONFIG = defineConfig({
  program: "osad2-client",
  section: CONFIG_SECTION,
  sectionRequired: true,
  ignoredKeys: LEGACY_KEYS,
  missingFileHint: "create it (the osad2 client package installs one) or pass --config FILE",
  keys: {
    systemid: {
      type: valueTypes.path,
      default: "/etc/sysconfig/rhn/systemid",
      doc: "text sent to register_osad; when its content changes (rhnreg_ks again) the client registers again",
      seed: true,
    },
    rhn_check_command: {
      type: valueTypes.command,
      default: "/usr/sbin/rhn_check",
      doc: "command run on checkin, split into argv as a shell would (quotes, backslashes) but never run by one; -vvv is added when debug_level > 0",
      seed: true,
    },
    certificates: {
      type: valueTypes.path,
      default: "/etc/rhn/osad2-client/certs",
      doc: "directory of the key files; relative key paths below are taken from here",
      seed: true,
    },
    server_public_key: {
      type: valueTypes.path,
      default: "server.key",
      doc: "server public certificate; if the file is absent the registration reply's server-public-key is used, if present it wins",
      seed: true,
    },
    client_secret_key: {
      type: valueTypes.path,
      default: "client.key_secret",
      doc: "this system's secret certificate; must exist, be mode 0600 and hold a matching pair",
      seed: true,
    },
    registry_interval: {
      type: valueTypes.positiveSeconds,
      default: "20",
      doc: "seconds between registration attempts after a failure (plus up to 50% jitter)",
      seed: true,
    },
    debug_level: {
      type: valueTypes.count,
      default: "0",
      doc: "0 = info logs; > 0 = debug logs and rhn_check -vvv",
      seed: true,
    },
    logfile: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "log file (JSON lines); empty = standard output",
      seed: true,
    },
    pidfile: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "pid file written by `run` (the seed used /var/run/osad-client.pid); empty = none, as systemd needs none",
      seed: true,
    },
    up2date: {
      type: valueTypes.path,
      default: "/etc/sysconfig/rhn/up2date",
      doc: "up2date config, read for serverURL (the first of a ;-list) and sslCACert",
      seed: false,
    },
    server_url: {
      type: valueTypes.optionalUrl,
      default: "",
      doc: "register_osad XML-RPC URL (Spacewalk https://HOST/XMLRPC, or osad2-server's own http://HOST:5557/XMLRPC); empty = up2date's serverURL",
      seed: false,
    },
    ca_cert: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "CA file(s), ;-separated, for https registration, checked to exist at start; empty = up2date's sslCACert",
      seed: false,
      aliases: ["osa_ssl_cert"],
    },
    server_host: {
      type: valueTypes.optionalHostList,
      default: "",
      doc: "server(s) to connect to, comma-separated, each host or host:port (port = ROUTER port, default listener_port), e.g. sw1,sw2:5556; when set it wins over the registration reply's endpoints and jabber-server (a proxy, failover servers); empty = the reply's endpoints, else its jabber-server, else the host of server_url",
      seed: false,
    },
    publisher_port: {
      type: valueTypes.port,
      default: String(DEFAULT_PUBLISHER_PORT),
      doc: "server PUB port (only seed-format and wire-v2 servers use it), used when the reply has no publisher-endpoint or server_host is set",
      seed: false,
    },
    listener_port: {
      type: valueTypes.port,
      default: String(DEFAULT_LISTENER_PORT),
      doc: "server ROUTER port, used when the reply has no listener-endpoint or a server_host entry names no port",
      seed: false,
    },
    jitter: {
      type: valueTypes.seconds,
      default: "0",
      doc: "random delay 0..jitter seconds before each rhn_check; e.g. 30 on large fleets, so a mass action spreads its load",
      seed: false,
    },
    rhn_check_timeout: {
      type: valueTypes.positiveSeconds,
      default: "1800",
      doc: "seconds before a hung rhn_check and its whole process group get SIGTERM (SIGKILL 10 s later)",
      seed: false,
    },
    run_at_start: {
      type: valueTypes.flag,
      default: "1",
      doc: "run rhn_check once at start-up, as the old osad did after a reboot",
      seed: false,
    },
    state_file: {
      type: valueTypes.path,
      default: "/var/lib/osad2-client/state.json",
      doc: "JSON state (registration, connection, last run) that `osad2-client status` prints",
      seed: false,
    },
  },
});

/** Every `[osad]` key by name (the keys of {@link CLIENT_CONFIG}). */
export const CONFIG_SCHEMA = CLIENT_CONFIG.keys;

/** A key of the `[osad]` section. */
export type ConfigKey = keyof typeof CONFIG_SCHEMA;

/** The values of every key, camelCased, as parsed from file, flags and defaults. */
export type ConfigValues = KitConfigValues<typeof CONFIG_SCHEMA>;
