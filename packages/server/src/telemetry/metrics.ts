import { PROTOCOL_VERSION } from "@osad2/protocol";
import type { LogDrops } from "@osad2/service-kit";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import packageJson from "../../package.json" with { type: "json" };

/**
 * Buckets (seconds) of the schedule → checkin latency: 10 ms (a NOTIFY-woken round) through
 * the poll interval (seconds) to the throttle's minutes.
 */
export const CHECKIN_LATENCY_BUCKETS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/**
 * prom-client's default gauges that end in `_total` (promtool: "non-counter metrics should not
 * have _total suffix"). Their per-type twins without the suffix stay: sum them instead.
 */
const NON_COUNTER_TOTALS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** What the dispatcher's last round found (the work gauges). */
export interface DispatchGauges {
  /** Due actions of the clients the dispatcher manages (heard from and online). */
  readonly dueActions: number;
  /** Systems with due work that the throttle (notify_threshold) held back. */
  readonly throttledSystems: number;
  /** Systems asked to check in whose due work rhn_check has not picked up yet. */
  readonly inFlightSystems: number;
}

/** Where the clients-online gauge reads its value (presence, while the server runs). */
export interface OnlineCount {
  readonly onlineCount: number;
}

/** Where the clients-managed gauge reads its value (the managed-clients set, while the server runs). */
export interface ManagedCount {
  readonly size: number;
}

/** Where the statements counter reads its value (the store, while the server runs). */
export interface StatementCount {
  readonly statementsSent: number;
}

/** The linked proxies (the proxy links), read at scrape time. */
export interface LinkedProxies {
  list(): readonly { readonly proxyName: string; readonly connections: number }[];
}

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one process,
 * as in tests, must not collide in prom-client's global registry).
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** `system:<name> checkin` messages published. */
  readonly notificationsPublished: Counter;
  /** Seconds from an action being pushable to its first checkin on the wire (see Telemetry.published). */
  readonly checkinLatency: Histogram;
  /** The dispatcher's last round: due actions. */
  readonly dueActions: Gauge;
  /** The dispatcher's last round: systems held back by the throttle. */
  readonly throttledSystems: Gauge;
  /** The dispatcher's last round: systems asked and not yet picked up. */
  readonly inFlightSystems: Gauge;
  /** osad2_server_active: the notifying role (failover). */
  readonly serverActive: Gauge;
  /** Clients online in rhnPushClient as this server sees them. */
  readonly clientsOnline: Gauge;
  /** osad2 proxies linked to the proxy port now. */
  readonly proxyLinks: Gauge;
  /** Client connections each linked proxy carries (read at scrape time). */
  readonly proxyConnections: Gauge;
  private readonly linked: { source: LinkedProxies | undefined } = { source: undefined };
  /** Push clients this server keeps the presence of (managed-clients.json). */
  readonly clientsManaged: Gauge;
  /** Client handshakes refused (unknown or revoked key, failed CURVE handshake). */
  readonly authFailures: Counter;
  /** Database rounds that failed (the server retries with back-off). */
  readonly pollErrors: Counter;
  /** Client messages dropped as malformed. */
  readonly malformedMessages: Counter;
  /** Well-formed client messages that changed nothing: unsigned, badly signed, unknown name, stale nonce. */
  readonly refusedMessages: Counter;

  /** Log lines lost because the log file could not take them (disk full, buffer full). */
  readonly logLinesDropped: Counter;
  /** Statements sent to the database (the store's count, read at scrape time). */
  readonly dbStatements: Counter;
  private readonly statements: { source: StatementCount | undefined; counted: number } = {
    source: undefined,
    counted: 0,
  };
  /** Read at scrape time: the log's own count, and how much of it the counter has. */
  private readonly logDrops: { source: LogDrops | undefined; counted: number } = {
    source: undefined,
    counted: 0,
  };

  /** Read at scrape time; prom-client binds `this` in collect() to the gauge. */
  private readonly counted: {
    source: OnlineCount | undefined;
    managed: ManagedCount | undefined;
  } = { source: undefined, managed: undefined };

  /** RoleReport: the notifying role changed (osad2_server_active). */
  roleChanged(role: "active" | "standby"): void {
    this.serverActive.set(role === "active" ? 1 : 0);
  }

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const counted = this.counted;
    this.notificationsPublished = new Counter({
      name: "osad2_notifications_published_total",
      help: "system:<name> checkin messages published",
      registers,
    });
    this.checkinLatency = new Histogram({
      name: "osad2_checkin_latency_seconds",
      help: "Seconds from an action becoming pushable (rhnAction.created, or a later earliest_action or client connection) to its first checkin published",
      buckets: CHECKIN_LATENCY_BUCKETS,
      registers,
    });
    this.dueActions = new Gauge({
      name: "osad2_due_actions",
      help: "Due actions of the push clients this server manages, as of the dispatcher's last round",
      registers,
    });
    this.throttledSystems = new Gauge({
      name: "osad2_throttled_systems",
      help: "Systems with due work held back by notify_threshold, as of the dispatcher's last round",
      registers,
    });
    this.inFlightSystems = new Gauge({
      name: "osad2_in_flight_systems",
      help: "Systems asked to check in whose due work rhn_check has not picked up yet, as of the dispatcher's last round",
      registers,
    });
    this.proxyLinks = new Gauge({
      name: "osad2_proxy_links",
      help: "osad2 proxies linked to this server's proxy port now (0 while standby)",
      registers,
    });
    const linked = this.linked;
    this.proxyConnections = new Gauge({
      name: "osad2_proxy_connections",
      help: "Client connections each linked osad2 proxy carries (its own clients and its children's)",
      labelNames: ["proxy"],
      registers,
      collect() {
        this.reset();
        for (const link of linked.source?.list() ?? [])
          this.inc({ proxy: link.proxyName }, link.connections);
      },
    });
    this.serverActive = new Gauge({
      name: "osad2_server_active",
      help: "1 while this server holds the notifying role (binds the client sockets and notifies), 0 while it stands by (PostgreSQL failover); always 1 on SQLite",
      registers,
    });
    new Gauge({
      name: "osad2_build_info",
      help: "Always 1; the labels say which osad2 server runs",
      labelNames: ["version", "node_version", "protocol_version"],
      registers,
    }).set(
      {
        version: packageJson.version,
        node_version: process.version,
        protocol_version: String(PROTOCOL_VERSION),
      },
      1,
    );
    this.clientsOnline = new Gauge({
      name: "osad2_clients_online",
      help: "Push clients online",
      registers,
      collect() {
        this.set(counted.source?.onlineCount ?? 0);
      },
    });
    this.clientsManaged = new Gauge({
      name: "osad2_clients_managed",
      help: "Push clients whose presence this server keeps (proved themselves to it or registered through it)",
      registers,
      collect() {
        this.set(counted.managed?.size ?? 0);
      },
    });
    this.authFailures = new Counter({
      name: "osad2_auth_failures_total",
      help: "Client handshakes refused (unknown or revoked key, failed CURVE handshake)",
      labelNames: ["reason"],
      registers,
    });
    this.pollErrors = new Counter({
      name: "osad2_poll_errors_total",
      help: "Database operations that failed (retried with back-off)",
      registers,
    });
    this.malformedMessages = new Counter({
      name: "osad2_malformed_messages_total",
      help: "Client messages dropped as malformed",
      labelNames: ["reason"],
      registers,
    });
    this.refusedMessages = new Counter({
      name: "osad2_refused_messages_total",
      help: "Client messages that changed nothing: unsigned, bad signature, unknown client, stale nonce or token, key lookup busy",
      labelNames: ["reason"],
      registers,
    });
    const logDrops = this.logDrops;
    this.logLinesDropped = new Counter({
      name: "osad2_log_lines_dropped_total",
      help: "Log lines lost because the log file could not take them (disk full, buffer full)",
      registers,
      collect() {
        const dropped = logDrops.source?.droppedLines ?? 0;
        if (dropped > logDrops.counted) this.inc(dropped - logDrops.counted);
        logDrops.counted = Math.max(dropped, logDrops.counted);
      },
    });
    const statements = this.statements;
    this.dbStatements = new Counter({
      name: "osad2_db_statements_total",
      help: "SQL statements sent to the database (polls, presence writes, key reads, registrations)",
      registers,
      collect() {
        const sent = statements.source?.statementsSent ?? 0;
        if (sent > statements.counted) this.inc(sent - statements.counted);
        statements.counted = Math.max(sent, statements.counted);
      },
    });
    if (options.processMetrics !== false) {
      // Unprefixed: the names stock process_* and nodejs_* dashboards and alerts expect.
      collectDefaultMetrics({ register: this.registry });
      for (const name of NON_COUNTER_TOTALS) this.registry.removeSingleMetric(name);
    }
  }

  /** Sets the work gauges from a dispatcher round. */
  setDispatchGauges(gauges: DispatchGauges): void {
    this.dueActions.set(gauges.dueActions);
    this.throttledSystems.set(gauges.throttledSystems);
    this.inFlightSystems.set(gauges.inFlightSystems);
  }

  /** Counts the lines `source` (the server's log) lost, from now on. */
  countLogDrops(source: LogDrops): void {
    this.logDrops.source = source;
  }

  /** Counts the statements `source` (the store) sends, from now on. */
  countStatements(source: StatementCount): void {
    this.statements.source = source;
    this.statements.counted = source.statementsSent;
  }

  /** Counts the connections of the linked proxies from now on (undefined: none). */
  countProxyConnections(source: LinkedProxies | undefined): void {
    this.linked.source = source;
  }

  /** Counts the clients of `source` from now on (undefined: none, the server stopped). */
  countClients(source: OnlineCount | undefined, managed?: ManagedCount): void {
    this.counted.source = source;
    this.counted.managed = managed;
  }
}
