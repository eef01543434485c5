import { backoffDelay } from "@osad2/service-kit";
import type { WakeUpConnectionEvent, WakeUpHandler, WakeUpMode } from "../db/types.js";
import { NOTIFY_TRIGGER } from "../db/notify-trigger.js";
import type { Logger } from "@osad2/service-kit";

/** The store's database wake-ups (PostgreSQL NOTIFY, a watched SQLite file). */
export interface WakeUpSource {
  subscribeWakeUps(handler: WakeUpHandler): Promise<() => Promise<void>>;
  wakeUpMode(): Promise<WakeUpMode>;
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
 * Instant rounds when the database changes (PostgreSQL NOTIFY from the trigger, a commit to
 * the SQLite file by another process) instead of waiting for the poll. The subscription is
 * retried with back-off while the database is away; once up, the database layer reconnects
 * it by itself, and the polls cover any gap. Says at start how the database wakes the server.
 */
export class WakeUps implements WakeUpHandler {
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: WakeUpsOptions) {}

  start(): void {
    void this.subscribe();
    void this.logMode();
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

  /** One line saying whether due work is found at once or by the poll. */
  private async logMode(): Promise<void> {
    let mode: WakeUpMode;
    try {
      mode = await this.options.source.wakeUpMode();
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        "cannot tell whether the NOTIFY trigger is installed",
      );
      return;
    }
    const { logger } = this.options;
    if (mode.kind === "notify" && mode.trigger) {
      logger.info(
        { wakeUps: "notify", trigger: NOTIFY_TRIGGER },
        `NOTIFY trigger ${NOTIFY_TRIGGER} present: rhnServerAction changes wake the dispatcher at once`,
      );
    } else if (mode.kind === "notify") {
      logger.warn(
        { wakeUps: "poll", trigger: null },
        `NOTIFY trigger ${NOTIFY_TRIGGER} absent on rhnServerAction: due work is found only by the poll every action_poll_interval; run \`osad2-server init\` to install it`,
      );
    } else if (mode.kind === "watch") {
      logger.info(
        { wakeUps: "watch", file: mode.file },
        "watching the SQLite database for commits: other processes' writes wake the dispatcher at once",
      );
    } else {
      logger.info({ wakeUps: "poll" }, "in-memory database: due work is found by the poll");
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
