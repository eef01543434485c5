import { backoffDelay, type Logger } from "@osad2/service-kit";
import type { InboundSource } from "./ports.js";

/** First restart delay after a receive loop failed; doubles up to {@link ROUTER_RESTART_MAX_MS}. */
export const ROUTER_RESTART_MIN_MS = 100;
/** Longest wait before a restart: well inside missed_pings × ping_interval, so clients stay online. */
export const ROUTER_RESTART_MAX_MS = 5_000;

/** Gets each message read: [routing id, ...frames] as the source gave it. Must not throw. */
export interface FrameSink {
  handle(routingId: Buffer | undefined, frames: Buffer[]): void;
}

/** Told when the loop failed (before the back-off) and when it restarted (after it). */
export interface ReceiveFailureLog {
  failed(error: unknown): void;
  restarted(): void;
}

/** Options of {@link RestartingReceiver}. */
export interface RestartingReceiverOptions {
  readonly source: InboundSource;
  readonly sink: FrameSink;
  /** Whom the loop receives from, for the log line: `clients (ROUTER)`. */
  readonly from: string;
  readonly logger: Logger;
  readonly failures?: ReceiveFailureLog;
}

/**
 * Reads a socket until it closes. If receiving fails, the failure is logged at error level and
 * the loop restarts after a back-off: without it the server would hear nobody on that socket
 * again.
 */
export class RestartingReceiver {
  private running: Promise<void> | undefined;
  private stopping = false;
  private backoffTimer: NodeJS.Timeout | undefined;
  private endBackoff: (() => void) | undefined;

  constructor(private readonly options: RestartingReceiverOptions) {}

  /** Idempotent. */
  start(): void {
    this.running ??= this.run();
  }

  /** No more restarts; resolves when the loop has ended (once the socket is closed). */
  stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.backoffTimer);
    this.endBackoff?.();
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const { source, sink, logger } = this.options;
    let failures = 0;
    while (!this.stopping) {
      try {
        for await (const [routingId, ...frames] of source.messages()) {
          failures = 0;
          sink.handle(routingId, frames);
        }
        return;
      } catch (error) {
        if (this.stopping) return;
        failures += 1;
        const retryInMs = backoffDelay(failures, {
          minMs: ROUTER_RESTART_MIN_MS,
          maxMs: ROUTER_RESTART_MAX_MS,
        });
        this.options.failures?.failed(error);
        logger.error(
          { err: error, retryInMs, failures },
          `receiving from ${this.options.from} failed; restarting the loop`,
        );
        await this.backoff(retryInMs);
        this.options.failures?.restarted();
      }
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.endBackoff = resolve;
      this.backoffTimer = setTimeout(resolve, ms);
    });
  }
}
