import { backoffDelay } from "@osad2/service-kit";
import type { WakeUpConnectionEvent, WakeUpHandler } from "../db/types.js";
import type { Logger } from "@osad2/service-kit";

/** The store's database wake-ups (PostgreSQL NOTIFY). */
export interface WakeUpSource {
  subscribeWakeUps(handler: WakeUpHandler): Promise<() => Promise<void>>;
}

/** Who runs a round when the database says something changed (the notifier). */
export interface WakeUpTarget {
  wake(): void;
}

/** Told when the wake-up connection fails (telemetry). */
export interface WakeUpReport {
  wakeUpsFailed(error: unknown): void;
}

/** Options of {@link WakeUps}. */
export interface WakeUpsOptions {
  readonly source: WakeUpSource;
  readonly target: WakeUpTarget;
  readonly report: WakeUpReport;
  readonly logger: Logger;
}

/**
 * Instant rounds on PostgreSQL NOTIFY instead of waiting for the poll. The subscription is
 * retried with back-off while the database is away; once up, the database layer reconnects
 * it by itself, and the polls cover any gap.
 */
export class WakeUps implements WakeUpHandler {
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: WakeUpsOptions) {}

  start(): void {
    void this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.unsubscribe?.();
  }

  wakeUp(): void {
    this.options.target.wake();
  }

  connectionChanged(event: WakeUpConnectionEvent): void {
    if (event.type === "listening") {
      if (event.reconnected) this.options.logger.info("database wake-up connection re-established");
      // Anything scheduled while the connection was down has sent no NOTIFY we heard.
      this.options.target.wake();
    } else {
      // Reconnects by itself (back-off in the database layer); polls cover the gap.
      this.options.report.wakeUpsFailed(event.error);
    }
  }

  private async subscribe(): Promise<void> {
    try {
      const unsubscribe = await this.options.source.subscribeWakeUps(this);
      if (this.stopped) {
        await unsubscribe();
        return;
      }
      this.unsubscribe = unsubscribe;
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      this.options.report.wakeUpsFailed(error);
      if (!this.stopped)
        this.timer = setTimeout(() => void this.subscribe(), backoffDelay(this.failures));
    }
  }
}
