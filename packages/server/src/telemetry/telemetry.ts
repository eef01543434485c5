import type {
  DispatchReport,
  FirstAnnouncement,
  NotifiedEvent,
  RoundSummary,
} from "../dispatch/ports.js";
import type { WakeUpReport } from "../dispatch/wake-ups.js";
import { logDrops, type Logger } from "@osad2/service-kit";
import type { PresenceReport } from "../presence/ports.js";
import type { HandshakeReport } from "../transport/ports.js";
import type { IdentityReport, Refusal } from "../presence/authenticator.js";
import type { InboundReport } from "../transport/router-loop.js";
import type { ZapRejection, ZapReport } from "../transport/zap.js";
import { TypedEmitter, type AuthFailureEvent } from "./events.js";
import { LogRateLimiter } from "./log-rate-limiter.js";
import { ServerMetrics } from "./metrics.js";

/** Refused handshakes logged per minute at most; the next logged one says how many were held back. */
const AUTH_LOGS_PER_MINUTE = 10;
/** Dropped and refused client messages logged per minute at most (each kind). */
const CLIENT_MESSAGE_LOGS_PER_MINUTE = 10;
/** Database failures logged per minute at most. */
const DB_ERROR_LOGS_PER_MINUTE = 5;

/** Options of {@link Telemetry}. */
export interface TelemetryOptions {
  /** Export Node process metrics (memory, event loop) too. Default true. */
  readonly processMetrics?: boolean;
}

/**
 * Everything the server reports, behind the report interfaces of its parts: Prometheus
 * metrics, the events library users subscribe to, and logs (rate-limited where a scanner or a
 * database outage could flood them). The parts only say what happened.
 */
export class Telemetry
  implements
    DispatchReport,
    PresenceReport,
    InboundReport,
    IdentityReport,
    ZapReport,
    HandshakeReport,
    WakeUpReport
{
  readonly metrics: ServerMetrics;
  readonly events: TypedEmitter;
  private readonly authLog = new LogRateLimiter(AUTH_LOGS_PER_MINUTE, 60_000);
  private readonly dbErrorLog = new LogRateLimiter(DB_ERROR_LOGS_PER_MINUTE, 60_000);
  private readonly malformedLog = new LogRateLimiter(CLIENT_MESSAGE_LOGS_PER_MINUTE, 60_000);
  private readonly refusedLog = new LogRateLimiter(CLIENT_MESSAGE_LOGS_PER_MINUTE, 60_000);

  constructor(
    private readonly logger: Logger,
    options: TelemetryOptions = {},
  ) {
    this.events = new TypedEmitter(logger);
    this.metrics = new ServerMetrics({ processMetrics: options.processMetrics });
    this.metrics.countLogDrops(logDrops(logger));
  }

  /**
   * Latency counts from the moment the action could be pushed (see FirstAnnouncement) to the
   * checkin on the wire: throttle waits and slow rounds count, a future earliest_action and a
   * system that was away do not. Clamped at 0: rhnAction.created comes from the database's
   * clock, which may run a little ahead of this host's.
   */
  published(event: NotifiedEvent, firstTime: readonly FirstAnnouncement[], at: Date): void {
    this.metrics.notificationsPublished.inc();
    for (const { pushableSince } of firstTime) {
      this.metrics.checkinLatency.observe(
        Math.max(0, (at.getTime() - pushableSince.getTime()) / 1000),
      );
    }
    this.events.emit("notified", event);
  }

  roundCompleted(summary: RoundSummary): void {
    this.metrics.setDispatchGauges(summary);
  }

  roundFailed(error: unknown): void {
    this.dbError(error, "poll");
  }

  /** `identity`: the system's server id and the client key's name, when known (diagnostics). */
  cameOnline(
    clientName: string,
    identity: { readonly serverId: number | null; readonly keyName: string | null } = {
      serverId: null,
      keyName: null,
    },
  ): void {
    this.logger.info({ clientName, ...identity }, "client online");
    this.events.emit("online", { clientName });
  }

  wentOffline(clientNames: readonly string[]): void {
    for (const clientName of clientNames) this.events.emit("offline", { clientName });
  }

  presenceFailed(error: unknown): void {
    this.dbError(error, "presence");
  }

  wakeUpsFailed(error: unknown): void {
    this.dbError(error, "listen");
  }

  malformed(reason: string, routingId: string | undefined): void {
    this.metrics.malformedMessages.inc({ reason });
    const { log, suppressed } = this.malformedLog.take();
    if (log)
      this.logger.warn({ reason, routingId, suppressed }, "malformed client message dropped");
  }

  /** ProxyLinkReport: proxies linked now (osad2_proxy_links). */
  linksChanged(links: number): void {
    this.metrics.proxyLinks.set(links);
  }

  refused(refusal: Refusal): void {
    this.metrics.refusedMessages.inc({ reason: refusal.reason });
    const { log, suppressed } = this.refusedLog.take();
    if (log) {
      this.logger.warn(
        { ...refusal, suppressed },
        refusal.reason === "unsigned"
          ? "unsigned client message ignored (allow_unsigned_clients = 0)"
          : "client message refused; nothing changed",
      );
    }
  }

  rejected(rejection: ZapRejection): void {
    this.authFailure(
      {
        address: rejection.address,
        reason: rejection.reason,
        ...(rejection.publicKey === undefined ? {} : { publicKey: rejection.publicKey }),
      },
      undefined,
    );
  }

  handshakeFailed(failure: {
    readonly endpoint: string;
    readonly code: string;
    readonly peers?: readonly string[];
  }): void {
    const peers = failure.peers ?? [];
    const first = peers[0];
    // The peer's IP as ZAP rejections report it; the server endpoint only when no peer is known.
    const address = first === undefined ? failure.endpoint : first.slice(0, first.lastIndexOf(":"));
    this.authFailure({ address, reason: "handshake" }, failure.code, {
      endpoint: failure.endpoint,
      peers,
    });
  }

  /** The key store could not read a key file (it keeps the last good state). */
  keyStoreProblem(error: unknown): void {
    this.logger.warn({ err: error }, "key store problem");
  }

  /** A database operation failed; the part retries by itself. */
  dbError(error: unknown, operation: string): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.metrics.pollErrors.inc();
    this.events.emit("db-error", { error: err, operation });
    const { log, suppressed } = this.dbErrorLog.take();
    if (log)
      this.logger.error({ err, operation, suppressed }, "database operation failed; retrying");
  }

  private authFailure(
    event: AuthFailureEvent,
    detail: string | undefined,
    context: Record<string, unknown> = {},
  ): void {
    this.metrics.authFailures.inc({ reason: event.reason });
    this.events.emit("auth-failure", event);
    const { log, suppressed } = this.authLog.take();
    if (log) {
      this.logger.warn(
        { ...event, ...(detail === undefined ? {} : { detail }), ...context, suppressed },
        "client refused",
      );
    }
  }
}
