/** What the generated server config fills in; every other key stays a commented default. */
export interface ServerConfigContext {
  /** Absolute certificates root. */
  readonly certificates: string;
  readonly created: Date;
  /** Who writes it, for the header line. Default `osad2-packager createserver`. */
  readonly writtenBy?: string;
}

/** The default `osad_server.cfg` (`[main]`, the keys of @osad2/server with their defaults, commented). */
export function renderServerConfig(context: ServerConfigContext): string {
  return `# osad2 server configuration, written by ${context.writtenBy ?? "osad2-packager createserver"} on ${context.created.toISOString()}.
# Every key can also be given to osad2-server as --kebab-case (e.g. --publisher-port).
# Commented lines show the defaults; intervals are seconds and may be fractional.
[main]
# CURVE keys: private_keys/server.key_secret, public_keys/*.key (the clients allowed in),
# proxies/*.key (the osad2 proxies allowed in), revoked/.
certificates = ${context.certificates}

# ZeroMQ: address to bind (* = every interface), PUB port clients subscribe to, ROUTER port they answer on.
;bind = *
;publisher_port = 5555
;listener_port = 5556
# Where osad2 proxies connect (CURVE; only keys in certificates/proxies/ are admitted; 0 = any free port).
;proxy_port = 5558
# Host name clients are told to connect to (register_osad's jabber-server); default: this host's name.
;public_host =

# Spacewalk database: sqlite:/path or postgres://user@host:port/db, and the PostgreSQL search_path.
;database = sqlite:/var/lib/osad2/osad2.db
;database_schema =

# Presence: ping every ping_interval; a client missing missed_pings answers in a row is offline.
;ping_interval = 10
;missed_pings = 3
# Due actions: poll every action_poll_interval, notify at most checkin_count clients (0 = unlimited),
# notify again after renotify_interval, also for picked-up actions when renotify_picked_up = 1.
;action_poll_interval = 5
;checkin_count = 100
;renotify_interval = 60
;renotify_picked_up = 0

# XML-RPC registration (register_osad) for osad2 clients; 0 = off. TLS when tls_cert and tls_key are set.
;xmlrpc_port = 5557
;xmlrpc_bind =
;tls_cert =
;tls_key =

# Prometheus metrics; 0 = off.
;metrics_port = 9557
;metrics_bind = 127.0.0.1

# Logging (empty log_file = stdout), debug logging (0/1), pid file.
;log_file =
;debug = 0
;pidfile =
`;
}
