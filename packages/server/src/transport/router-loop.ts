import {
  decodeListenerMessage,
  MAX_MESSAGE_BYTES,
  ProtocolError,
  type ListenerMessage,
} from "@osad2/protocol";
import { backoffDelay } from "@osad2/service-kit";
import type { Logger } from "@osad2/service-kit";
import { DropCollector } from "./drop-collector.js";
import type { InboundSource } from "./ports.js";

/** First restart delay after the ROUTER loop failed; doubles up to {@link ROUTER_RESTART_MAX_MS}. */
export const ROUTER_RESTART_MIN_MS = 100;
/** Longest wait before a restart: well inside missed_pings × ping_interval, so clients stay online. */
export const ROUTER_RESTART_MAX_MS = 5_000;

/** Where decoded client messages go (the authenticator, then presence). Must not throw. */
export interface ClientMessageHandler {
  /** One decoded message of the connection `routingId` (not an identity: any bytes). */
  received(routingId: Buffer, message: ListenerMessage): void;
}

/** Told about every dropped message (metrics, rate-limited logs). */
export interface InboundReport {
  /** Dropped as undecodable (`reason`: the ProtocolError's, or `frame-count`); routing id in hex. */
  malformed(reason: string, routingId: string | undefined): void;
}

/** The loop's health: `ok` false from a failure until it has restarted (for /healthz). */
export interface RouterLoopStatus {
  readonly ok: boolean;
  /** The last failure's message while `ok` is false. */
  readonly error?: string;
  /** Restarts since the server started. */
  readonly restarts: number;
}

/** Options of {@link RouterLoop}. */
export interface RouterLoopOptions {
  readonly source: InboundSource;
  readonly handler: ClientMessageHandler;
  readonly report: InboundReport;
  readonly logger: Logger;
}

/**
 * Reads the ROUTER until the sockets close. Each message is [routing id, frame];
 * anything else is counted and dropped, so one broken or hostile client never disturbs the
 * rest. If receiving fails, the failure is logged at error level and the loop restarts after a
 * back-off: without it the server would hear no client again and every client would go offline.
 */
export class RouterLoop {
  private running: Promise<void> | undefined;
  private stopping = false;
  private failure: string | undefined;
  private restarts = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private endBackoff: (() => void) | undefined;
  private readonly collector = new DropCollector();

  constructor(private readonly options: RouterLoopOptions) {}

  get status(): RouterLoopStatus {
    return this.failure === undefined
      ? { ok: true, restarts: this.restarts }
      : { ok: false, error: this.failure, restarts: this.restarts };
  }

  start(): void {
    this.running ??= this.run();
  }

  /** No more restarts; resolves when the loop has ended (once the sockets are closed). */
  stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.backoffTimer);
    this.endBackoff?.();
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        for await (const [routingId, ...frames] of this.options.source.messages()) {
          failures = 0;
          this.handle(routingId, frames);
        }
        return;
      } catch (error) {
        if (this.stopping) return;
        failures += 1;
        const retryInMs = backoffDelay(failures, {
          minMs: ROUTER_RESTART_MIN_MS,
          maxMs: ROUTER_RESTART_MAX_MS,
        });
        this.failure = error instanceof Error ? error.message : String(error);
        this.options.logger.error(
          { err: error, retryInMs, failures },
          "receiving from clients (ROUTER) failed; restarting the loop",
        );
        await this.backoff(retryInMs);
        this.restarts += 1;
        this.failure = undefined;
      }
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.endBackoff = resolve;
      this.backoffTimer = setTimeout(resolve, ms);
    });
  }

  private handle(routingId: Buffer | undefined, frames: Buffer[]): void {
    const { handler, report, logger } = this.options;
    if (routingId === undefined) {
      report.malformed("frame-count", undefined);
      return;
    }
    // Checked before decoding: a flood of oversized frames costs no thrown error each.
    if (frames.length === 1 && (frames[0]?.byteLength ?? 0) > MAX_MESSAGE_BYTES) {
      report.malformed("too-large", routingId.toString("hex").slice(0, 64));
      this.collector.dropped(frames[0]?.byteLength ?? 0);
      return;
    }
    let message;
    try {
      message = decodeListenerMessage(frames);
    } catch (error) {
      this.collector.dropped(frames.reduce((sum, frame) => sum + frame.byteLength, 0));
      report.malformed(
        error instanceof ProtocolError ? error.reason : "undecodable",
        routingId.toString("hex").slice(0, 64),
      );
      return;
    }
    try {
      handler.received(routingId, message);
    } catch (error) {
      logger.error({ err: error }, "client message handler failed");
    }
  }
}
