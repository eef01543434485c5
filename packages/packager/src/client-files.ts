import { PROJECT_URL } from "./constants.js";

/** Where the client RPM installs things (the layout @osad2/client's defaults expect). */
export const CLIENT_PATHS = {
  libDir: "/usr/lib/osad2-client",
  bin: "/usr/bin/osad2-client",
  configDir: "/etc/rhn/osad2-client",
  config: "/etc/rhn/osad2-client/osad_client.cfg",
  certsDir: "/etc/rhn/osad2-client/certs",
  secretKey: "/etc/rhn/osad2-client/certs/client.key_secret",
  serverKey: "/etc/rhn/osad2-client/certs/server.key",
  unit: "/usr/lib/systemd/system/osad2-client.service",
  unitName: "osad2-client.service",
} as const;

/** What a generated client file is for. */
export interface ClientFileContext {
  readonly name: string;
  readonly serverHost: string;
  readonly created: Date;
}

/** `/etc/rhn/osad2-client/osad_client.cfg`: the keys the packager knows, the rest as commented defaults. */
export function renderClientConfig(context: ClientFileContext): string {
  return `# osad2 client configuration for system "${context.name}",
# written by osad2-packager createclient on ${context.created.toISOString()}.
# Every key can also be given to osad2-client as --kebab-case (e.g. --server-host).
# Commented lines show the defaults.
[osad]
# Host of the osad2 server, used when registration returns no endpoints.
server_host = ${context.serverHost}
# This system's CURVE key pair and the server's public key (installed by this package).
certificates = ${CLIENT_PATHS.certsDir}
server_public_key = ${CLIENT_PATHS.serverKey}
client_secret_key = ${CLIENT_PATHS.secretKey}

# Spacewalk registration.
;systemid = /etc/sysconfig/rhn/systemid
;up2date = /etc/sysconfig/rhn/up2date
# Registration XML-RPC URL and CA certificate; default: serverURL and sslCACert from up2date.
;server_url =
;ca_cert =
# Seconds between registration attempts while the server cannot be reached.
;registry_interval = 20

# ZeroMQ ports of the server (used with server_host).
;publisher_port = 5555
;listener_port = 5556

# rhn_check: the command, its time limit (s), a random delay before each run (s), and a run at start-up (0/1).
;rhn_check_command = /usr/sbin/rhn_check
;rhn_check_timeout = 1800
;jitter = 0
;run_at_start = 1

# Logging (empty logfile = stdout, i.e. the journal), state for "osad2-client status", pid file.
;debug_level = 0
;logfile =
;state_file = /var/lib/osad2-client/state.json
;pidfile =
`;
}

/** `/usr/lib/systemd/system/osad2-client.service`. */
export function renderServiceUnit(): string {
  return `[Unit]
Description=osad2 push client: runs rhn_check when Spacewalk has work for this system
Documentation=${PROJECT_URL}
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${CLIENT_PATHS.bin} run --config ${CLIENT_PATHS.config}
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM to osad2-client only (rhn_check shares the cgroup): it closes its sockets and lets a
# running rhn_check finish (up to 60 s); whatever is left after TimeoutStopSec is killed.
KillMode=mixed
TimeoutStopSec=90
Restart=on-failure
RestartSec=5
# The old osad ran rhn_check with umask 022; actions create files other users read.
UMask=0022
# Default state_file directory (/var/lib/osad2-client).
StateDirectory=osad2-client

[Install]
WantedBy=multi-user.target
`;
}

/** `/usr/bin/osad2-client`: a wrapper rather than a symlink, so it does not depend on cli.js's mode or shebang. */
export function renderWrapper(): string {
  return `#!/bin/sh
exec node ${CLIENT_PATHS.libDir}/cli.js "$@"
`;
}
