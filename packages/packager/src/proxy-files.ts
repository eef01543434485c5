/**
 * What a proxy's keys RPM installs on the proxy host: its key pair, its upstream's public key,
 * osad2-proxy.conf, the osad2-proxy unit and the firewalld services of its two ports. The layout
 * mirrors the client's (a config beside a certs/ directory whose secret part only root reads).
 */
import { DEFAULT_PROXY_LISTENER_PORT, DEFAULT_PROXY_PORT } from "./constants.js";
import { firewalldServicePath, renderFirewalldXml } from "./firewalld.js";

/** Where the proxy keys RPM installs things (the paths @osad2/proxy's `run --config` reads). */
export const PROXY_PATHS = {
  configDir: "/etc/osad2",
  config: "/etc/osad2/osad2-proxy.conf",
  certsDir: "/etc/osad2/proxy-certs",
  privateKeysDir: "/etc/osad2/proxy-certs/private_keys",
  publicKeysDir: "/etc/osad2/proxy-certs/public_keys",
  secretKey: "/etc/osad2/proxy-certs/private_keys/proxy.key_secret",
  publicKey: "/etc/osad2/proxy-certs/public_keys/proxy.key",
  /** The server's public key, or the parent proxy's: whoever `upstream` names. */
  upstreamKey: "/etc/osad2/proxy-certs/public_keys/upstream.key",
  unit: "/usr/lib/systemd/system/osad2-proxy.service",
  unitName: "osad2-proxy.service",
  /** 5556, from the systems behind the proxy. */
  firewalldSystems: firewalldServicePath("osad2-proxy"),
  /** 5558, from child proxies (only where a proxy sits behind this one). */
  firewalldProxies: firewalldServicePath("osad2-proxy-proxies"),
} as const;

/** What `osad2-proxy.conf` is written from. */
export interface ProxyConfigContext {
  readonly name: string;
  /** `host:port` of each upstream (server proxy ports, or the parent proxy's). */
  readonly upstream: readonly string[];
  /** `server` or `proxy PARENT`: whose public key upstream.key is. */
  readonly upstreamIs: string;
  readonly created: Date;
}

/**
 * `/etc/osad2/osad2-proxy.conf` (`[osad2-proxy]`): upstream, certificates and the two ports set,
 * the other keys commented at their defaults.
 */
export function renderProxyConfig(context: ProxyConfigContext): string {
  return `# osad2 proxy "${context.name}", written by osad2-packager createproxy on ${context.created.toISOString()}.
# Every key can also be given to osad2-proxy as --kebab-case (e.g. --listener-port).
[osad2-proxy]
# Its name on the link and in the server's \`systems\` (VIA): its key is the server's proxies/${context.name}.key.
name = ${context.name}
# Where this proxy connects: ${context.upstreamIs}'s proxy port, host:port, comma-separated (several =
# failover servers: it connects to every one and talks to the active one).
upstream = ${context.upstream.join(", ")}
# private_keys/proxy.key_secret (this proxy), public_keys/proxy.key, public_keys/upstream.key (${context.upstreamIs}).
certificates = ${PROXY_PATHS.certsDir}
# Where the systems behind this proxy connect (their server_host; the server's ROUTER port).
listener_port = ${String(DEFAULT_PROXY_LISTENER_PORT)}
# Where child proxies connect (off = none).
proxy_port = ${String(DEFAULT_PROXY_PORT)}
# Address to bind (* = every interface).
;bind = *
# Logging (empty log_file = stdout: the journal), debug logging (0/1), pid file. Under
# osad2-proxy.service only /var/log/osad2/ and /run/osad2-proxy/ are writable.
;log_file =
;debug = 0
;pidfile =
`;
}

/**
 * `osad2-proxy.service`. Runs osad2-proxy installed from npm (`/usr/bin/env` finds it in
 * /usr/bin or /usr/local/bin). As root, for the root-only secret key, but with no capabilities
 * and a read-only system: the proxy keeps nothing on disk and binds unprivileged ports.
 */
export function renderProxyUnit(): string {
  return `# osad2-proxy: installed by osad2-proxy-keys-NAME (osad2-packager createproxy) with its keys and
# ${PROXY_PATHS.config}. Install the proxy itself (npm install -g @osad2/proxy), then
# \`systemctl enable --now osad2-proxy\`. Upgrading the keys package restarts it.
[Unit]
Description=osad2 proxy: carries osad2 push connections between systems and the osad2 server
Documentation=https://www.npmjs.com/package/@osad2/proxy
Wants=network-online.target
After=network-online.target
ConditionPathExists=${PROXY_PATHS.config}

[Service]
Type=simple
ExecStart=/usr/bin/env osad2-proxy run --config ${PROXY_PATHS.config}
ExecReload=/bin/kill -HUP $MAINPID
TimeoutStopSec=30
# It keeps nothing on disk: a restart loses nothing, the systems reconnect at once.
Restart=always
RestartSec=1
Environment=NODE_ENV=production
# Each system behind it holds one connection.
LimitNOFILE=65536
# log_file and pidfile, when set, go here (/var/log/osad2, /run/osad2-proxy).
LogsDirectory=osad2
RuntimeDirectory=osad2-proxy
# Hardening: root only to read its 0600 key; no capabilities, nothing else written.
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=strict
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
LockPersonality=yes

[Install]
WantedBy=multi-user.target
`;
}

/** `osad2-proxy`: the listener port, for the zone the systems behind the proxy are in. */
export function renderProxySystemsService(): string {
  return renderFirewalldXml({
    short: "osad2-proxy",
    description: `osad2 proxy: the port the systems behind this proxy connect to (listener_port ${String(DEFAULT_PROXY_LISTENER_PORT)}, CURVE-encrypted; their keys are checked against the osad2 server's allow-list).`,
    ports: [DEFAULT_PROXY_LISTENER_PORT],
  });
}

/** `osad2-proxy-proxies`: the proxy port, for child proxies only. */
export function renderProxyProxiesService(): string {
  return renderFirewalldXml({
    short: "osad2-proxy-proxies",
    description: `osad2 proxy: the port child osad2 proxies connect to (proxy_port ${String(DEFAULT_PROXY_PORT)}, CURVE-encrypted; only proxy keys the osad2 server admits). Open it only where a proxy sits behind this one.`,
    ports: [DEFAULT_PROXY_PORT],
  });
}
