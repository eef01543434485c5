import type { LogDrops } from "@osad2/service-kit";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Latency buckets (seconds) from earliest_action to the checkin on the wire. */
export const NOTIFY_LATENCY_BUCKETS = [
  0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300,
];

/** Where the clients-online gauge reads its value (presence, while the server runs). */
export interface OnlineCount {
  readonly onlineCount: number;
}

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one process,
 * as in tests, must not collide in prom-client's global registry).
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** `system:<name> checkin` messages published. */
  readonly notificationsPublished: Counter;
  /** Seconds from an action's earliest_action to its first checkin. */
  readonly notifyLatency: Histogram;
  /** Clients online in rhnPushClient as this server sees them. */
  readonly clientsOnline: Gauge;
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
  /** Read at scrape time: the log's own count, and how much of it the counter has. */
  private readonly logDrops: { source: LogDrops | undefined; counted: number } = {
    source: undefined,
    counted: 0,
  };

  /** Read at scrape time; prom-client binds `this` in collect() to the gauge. */
  private readonly counted: { source: OnlineCount | undefined } = { source: undefined };

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const counted = this.counted;
    this.notificationsPublished = new Counter({
      name: "osad2_notifications_published_total",
      help: "system:<name> checkin messages published",
      registers,
    });
    this.notifyLatency = new Histogram({
      name: "osad2_notify_latency_seconds",
      help: "Seconds from an action's earliest_action in the database to its first checkin on the wire",
      buckets: NOTIFY_LATENCY_BUCKETS,
      registers,
    });
    this.clientsOnline = new Gauge({
      name: "osad2_clients_online",
      help: "Push clients online",
      registers,
      collect() {
        this.set(counted.source?.onlineCount ?? 0);
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
    if (options.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: "osad2_" });
  }

  /** Counts the lines `source` (the server's log) lost, from now on. */
  countLogDrops(source: LogDrops): void {
    this.logDrops.source = source;
  }

  /** Counts the clients of `source` from now on (undefined: none, the server stopped). */
  countClients(source: OnlineCount | undefined): void {
    this.counted.source = source;
  }
}
