import {
  decodeListenerMessage,
  MAX_MESSAGE_BYTES,
  ProtocolError,
  type ListenerMessage,
} from "@osad2/protocol";
import type { Logger } from "@osad2/service-kit";
import { DropCollector } from "./drop-collector.js";
import type { InboundSource } from "./ports.js";
import {
  RestartingReceiver,
  type FrameSink,
  type ReceiveFailureLog,
} from "./restarting-receiver.js";

export { ROUTER_RESTART_MAX_MS, ROUTER_RESTART_MIN_MS } from "./restarting-receiver.js";

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
export class RouterLoop implements FrameSink, ReceiveFailureLog {
  private failure: string | undefined;
  private restarts = 0;
  private readonly collector = new DropCollector();
  private readonly receiver: RestartingReceiver;

  constructor(private readonly options: RouterLoopOptions) {
    this.receiver = new RestartingReceiver({
      source: options.source,
      sink: this,
      from: "clients (ROUTER)",
      logger: options.logger,
      failures: this,
    });
  }

  get status(): RouterLoopStatus {
    return this.failure === undefined
      ? { ok: true, restarts: this.restarts }
      : { ok: false, error: this.failure, restarts: this.restarts };
  }

  start(): void {
    this.receiver.start();
  }

  /** No more restarts; resolves when the loop has ended (once the sockets are closed). */
  stop(): Promise<void> {
    return this.receiver.stop();
  }

  failed(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
  }

  restarted(): void {
    this.restarts += 1;
    this.failure = undefined;
  }

  handle(routingId: Buffer | undefined, frames: Buffer[]): void {
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
