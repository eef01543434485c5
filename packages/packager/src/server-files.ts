import { renderFirewalldXml } from "./firewalld.js";
import { DEFAULT_SERVER_CERTIFICATES_DIR, DEFAULT_SERVER_CONFIG_PATH } from "./options.js";

/** The system user the server RPM runs osad2-server as (it owns the keys and the state). */
export const SERVER_USER = "osad2";

/** Where the server RPM installs things (@osad2/server's defaults and its unit's directories). */
export const SERVER_PATHS = {
  libDir: "/usr/lib/osad2-server",
  bin: "/usr/bin/osad2-server",
  unit: "/usr/lib/systemd/system/osad2-server.service",
  unitName: "osad2-server.service",
  dropInDir: "/usr/lib/systemd/system/osad2-server.service.d",
  dropIn: "/usr/lib/systemd/system/osad2-server.service.d/osad2-rpm.conf",
  configDir: "/etc/rhn/osad2-server",
  config: DEFAULT_SERVER_CONFIG_PATH,
  certsDir: DEFAULT_SERVER_CERTIFICATES_DIR,
  privateKeysDir: `${DEFAULT_SERVER_CERTIFICATES_DIR}/private_keys`,
  publicKeysDir: `${DEFAULT_SERVER_CERTIFICATES_DIR}/public_keys`,
  revokedDir: `${DEFAULT_SERVER_CERTIFICATES_DIR}/revoked`,
  /** Re-issued clients' old keys until their successor connects (@osad2/keys' retiring/). */
  retiringDir: `${DEFAULT_SERVER_CERTIFICATES_DIR}/retiring`,
  /** The osad2 proxies the server admits on its proxy port (@osad2/keys' proxies/). */
  proxiesDir: `${DEFAULT_SERVER_CERTIFICATES_DIR}/proxies`,
  /** The unit's StateDirectory=osad2: the default SQLite database. */
  stateDir: "/var/lib/osad2",
  /** The unit's LogsDirectory=osad2: log_file, when set. */
  logDir: "/var/log/osad2",
  sysusers: "/usr/lib/sysusers.d/osad2-server.conf",
  logrotate: "/etc/logrotate.d/osad2-server",
  firewalld: "/usr/lib/firewalld/services/osad2-server.xml",
  /** 5558, proxy_port: where osad2 proxies connect; a service of its own, to open it to their zone only. */
  firewalldProxies: "/usr/lib/firewalld/services/osad2-server-proxies.xml",
  setpriv: "/usr/bin/setpriv",
} as const;

/**
 * The unit drop-in: run as {@link SERVER_USER}, the packaged binary, and before each start
 * `osad2-server init` as that user, so the first start creates the server's key pair (0600, owned
 * by the user that reads it) and the standalone schema, and later starts find them. `+` runs that
 * step outside the unit's sandbox (ProtectSystem=full keeps /etc read-only to the server itself);
 * setpriv drops to the user before anything is written.
 */
export function renderServerDropIn(): string {
  const p = SERVER_PATHS;
  return `# Installed by the osad2-server RPM: run as the ${SERVER_USER} user, the packaged binary (not
# whatever osad2-server is first on PATH), and create the keys and schema on the first start.
[Service]
User=${SERVER_USER}
Group=${SERVER_USER}
ExecStartPre=+${p.setpriv} --reuid=${SERVER_USER} --regid=${SERVER_USER} --init-groups ${p.bin} init --config ${p.config}
ExecStart=
ExecStart=${p.bin} run --config ${p.config}
`;
}

/** systemd-sysusers' declaration of the user, for image builds (%pre creates it on install). */
export function renderSysusers(): string {
  return `# The user osad2-server runs as; it owns ${SERVER_PATHS.certsDir} and ${SERVER_PATHS.stateDir}.
u ${SERVER_USER} - "osad2 server" ${SERVER_PATHS.stateDir}
`;
}

/** `%pre`: the same user, created as Fedora's %sysusers_create_compat does (rpm before 4.19). */
export function renderCreateUser(): string {
  const u = SERVER_USER;
  return `getent group ${u} >/dev/null || groupadd -r ${u}
getent passwd ${u} >/dev/null || useradd -r -g ${u} -d ${SERVER_PATHS.stateDir} -s /sbin/nologin -c "osad2 server" ${u}
exit 0
`;
}

/** logrotate for log_file in /var/log/osad2; SIGHUP (systemctl reload) makes the server reopen it. */
export function renderLogrotate(): string {
  return `# osad2-server logs to the journal unless log_file is set; set it inside ${SERVER_PATHS.logDir}/.
${SERVER_PATHS.logDir}/*.log {
    weekly
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    su ${SERVER_USER} ${SERVER_USER}
    postrotate
        /usr/bin/systemctl reload ${SERVER_PATHS.unitName} >/dev/null 2>&1 || :
    endscript
}
`;
}

/** The server's listening ports, as its default configuration has them. */
export interface ServerPorts {
  readonly publisher: number;
  readonly listener: number;
  /** 0 = off. */
  readonly xmlrpc: number;
  /** proxy_port: where osad2 proxies connect. */
  readonly proxy: number;
}

/** A firewalld service (`firewall-cmd --add-service=osad2-server`) with the ports clients connect to. */
export function renderFirewalldService(ports: ServerPorts): string {
  return renderFirewalldXml({
    short: "osad2-server",
    description: `osad2 push server for Spacewalk and Uyuni: the ZeroMQ ports osad2 clients connect to (PUB ${String(ports.publisher)}, ROUTER ${String(ports.listener)})${ports.xmlrpc === 0 ? "" : ` and the XML-RPC registration endpoint (${String(ports.xmlrpc)}), which clients use when they register with osad2 itself`}. The ports of the default osad_server.cfg; change this file with them.`,
    ports: [ports.publisher, ports.listener, ...(ports.xmlrpc === 0 ? [] : [ports.xmlrpc])],
  });
}

/** `osad2-server-proxies`: the proxy port, for the zone the osad2 proxies connect from. */
export function renderFirewalldProxiesService(ports: Pick<ServerPorts, "proxy">): string {
  return renderFirewalldXml({
    short: "osad2-server-proxies",
    description: `osad2 push server: the port osad2 proxies connect to (proxy_port ${String(ports.proxy)}), CURVE-encrypted and open only to proxy keys in certs/proxies/. Open it to the zone your proxies are in; systems need osad2-server instead.`,
    ports: [ports.proxy],
  });
}
