import { hostname } from "node:os";
import { join } from "node:path";
import { DEFAULT_PROXY_PORT, isValidProxyName } from "@osad2/protocol";
import {
  defineConfig,
  loadConfig,
  valueTypes,
  type ConfigValues,
  type HostPort,
  type ValueType,
} from "@osad2/service-kit";

/** Where `osad2-proxy` looks for its configuration when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = "/etc/osad2/osad2-proxy.conf";
/** The INI section holding every key. */
export const CONFIG_SECTION = "osad2-proxy";
/** Where clients connect by default: the server's listener_port, so a client config only changes host and key. */
export const DEFAULT_LISTENER_PORT = 5556;

/** `proxy_port`: a port, 0 (any free port) or `off` (no child proxies). */
const proxyPort: ValueType<number | "off"> = {
  name: "port",
  expected: "a TCP port (1-65535), 0 or off",
  parse: (text) => (text.toLowerCase() === "off" ? "off" : valueTypes.portOrZero.parse(text)),
  accepts: (value) => value === "off" || valueTypes.portOrZero.accepts(value),
};

/** The proxy's name on the link (its key's name in the server's proxies/). */
const proxyName: ValueType<string> = {
  name: "name",
  expected: "1-64 of A-Z a-z 0-9 . _ - (not starting with .)",
  parse: (text) => (isValidProxyName(text) ? text : undefined),
  accepts: (value) => typeof value === "string" && isValidProxyName(value),
};

/** A host name shortened and cleaned into a proxy name (the default of `name`). */
function defaultName(): string {
  const short = hostname().split(".")[0] ?? "";
  const clean = short.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64);
  return clean === "" ? "proxy" : clean;
}

/** Comma-separated parents: at least one. */
const upstreams: ValueType<readonly HostPort[]> = {
  name: "hosts",
  expected: "host names or IP addresses, each optionally :port, separated by commas",
  example: "spacewalk.example.com",
  parse: (text) => {
    const list = valueTypes.optionalHostList.parse(text);
    return list === undefined || list.length === 0 ? undefined : list;
  },
  accepts: (value) =>
    valueTypes.optionalHostList.accepts(value) && (value as readonly unknown[]).length > 0,
};

/**
 * The one schema of the proxy config: every `[osad2-proxy]` key (snake_case in the file,
 * camelCase in {@link ProxyConfig}, `--kebab-case` on the command line).
 */
export const PROXY_CONFIG = defineConfig({
  program: "osad2-proxy",
  section: CONFIG_SECTION,
  sectionRequired: true,
  missingFileHint: "create it (osad2-packager createproxy writes one) or pass --config FILE",
  keys: {
    name: {
      type: proxyName,
      default: defaultName,
      doc: "this proxy's name on the link and in `systems` (VIA); its key is proxies/NAME.key on the server; default the short host name",
      seed: false,
    },
    upstream: {
      type: upstreams,
      default: "",
      doc: `parents, comma-separated host[:port]: the server's proxy_port (default ${DEFAULT_PROXY_PORT}) or a parent proxy's; several = failover servers`,
      seed: false,
      example: "spacewalk.example.com",
    },
    bind: {
      type: valueTypes.bindAddress,
      default: "*",
      doc: "address of the client and child-proxy ports (* = all interfaces)",
      seed: false,
    },
    listener_port: {
      type: valueTypes.portOrZero,
      default: String(DEFAULT_LISTENER_PORT),
      doc: "where clients connect (the server's one-connection ROUTER port; 0 = any free port)",
      seed: false,
    },
    proxy_port: {
      type: proxyPort,
      default: String(DEFAULT_PROXY_PORT),
      doc: "where child proxies connect (0 = any free port, off = none)",
      seed: false,
    },
    certificates: {
      type: valueTypes.path,
      default: "/etc/osad2/proxy-certs",
      doc: "private_keys/proxy.key_secret (0600), public_keys/proxy.key, public_keys/upstream.key (the parent's public key)",
      seed: false,
    },
    log_file: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "JSON log file; empty = standard output",
      seed: false,
    },
    debug: {
      type: valueTypes.flag,
      default: "0",
      doc: "debug logging",
      seed: false,
    },
    pidfile: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "pid file while running; empty = none",
      seed: false,
    },
  },
});

/** The proxy's configuration, as loaded and validated. */
export type ProxyConfig = ConfigValues<typeof PROXY_CONFIG.keys>;

/** Options of {@link loadProxyConfig}. */
export interface LoadProxyConfigOptions {
  readonly path: string;
  /** Whether a missing file is an error (true when --config was given). */
  readonly required: boolean;
  /** Raw command-line values by INI key. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

/** Reads, validates and resolves the config file and flags. @throws {ConfigError} */
export async function loadProxyConfig(options: LoadProxyConfigOptions): Promise<ProxyConfig> {
  const loaded = await loadConfig(PROXY_CONFIG, {
    path: options.path,
    required: options.required,
    ...(options.flags === undefined ? {} : { flags: options.flags }),
  });
  return loaded.values;
}

/** The key files a proxy reads under `certificates`. */
export interface ProxyKeyPaths {
  readonly secretKey: string;
  readonly publicKey: string;
  readonly upstreamKey: string;
}

export function proxyKeyPaths(certificates: string): ProxyKeyPaths {
  return {
    secretKey: join(certificates, "private_keys", "proxy.key_secret"),
    publicKey: join(certificates, "public_keys", "proxy.key"),
    upstreamKey: join(certificates, "public_keys", "upstream.key"),
  };
}
