import { assertClientName, encodeCheckin } from "@osad2/protocol";
import { backoffDelay } from "./backoff.js";
import type { DueAction, SpacewalkStore } from "./db/types.js";
import { UnknownClientError } from "./errors.js";
import type { Logger } from "./logger.js";
import { NotificationBook, type Publication } from "./notifier-book.js";

/** The store calls the notifier makes. */
export type NotifierStore = Pick<
  SpacewalkStore,
  "dueActions" | "nextEarliestAction" | "findClient"
>;

/** What one published checkin announced (the payload of the server's 'notified' event). */
export interface NotifiedEvent {
  readonly clientName: string;
  readonly serverId: number;
  readonly actionIds: readonly number[];
}

/** The answer of {@link Notifier.notify}. */
export interface NotifyResult {
  /** False only when a server id was given and that system has no due work (so no client name is known). */
  readonly published: boolean;
  readonly clientName: string | null;
  readonly serverId: number | null;
  /** Due actions the checkin covers (may be empty when notifying a client by name). */
  readonly actionIds: readonly number[];
}

/** Settings that SIGHUP may change. */
export interface NotifierSettings {
  readonly renotifyMs: number;
  /** checkin_count; 0 = unlimited. */
  readonly threshold: number;
  readonly pollIntervalMs: number;
  readonly includePickedUp: boolean;
}

/** Options of {@link Notifier}. */
export interface NotifierOptions extends NotifierSettings {
  readonly store: NotifierStore;
  readonly publish: (frame: Buffer) => Promise<void>;
  readonly isOnline: (clientName: string) => boolean;
  readonly logger: Logger;
  /** A checkin went out; `firstTime` are the actions announced for the first time. */
  readonly onPublished: (event: NotifiedEvent, firstTime: readonly DueAction[], at: Date) => void;
  /** A database round failed; the notifier retries with back-off by itself. */
  readonly onDbError: (error: unknown) => void;
  /** A database round succeeded (after a failure, the database is back). */
  readonly onDbOk: () => void;
}

// Timers further out than this are cut short; the poll interval is far shorter anyway.
const MAX_TIMER_MS = 2 ** 31 - 1;
// libuv timers may fire a hair early relative to Date.now(); the database compares with our clock.
const TIMER_SLACK_MS = 2;

/**
 * Announces due actions: one `system:<name> checkin` per due action per client, re-announced
 * after renotify_interval, throttled to checkin_count systems in flight. It wakes on a poll
 * timer, exactly at the next earliest_action, at the next re-announcement, and whenever
 * {@link wake} is called (PostgreSQL NOTIFY).
 */
export class Notifier {
  private readonly book: NotificationBook;
  private settings: NotifierSettings;
  private timer: NodeJS.Timeout | undefined;
  /** When {@link timer} fires (ms since the epoch). */
  private timerAt = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private failures = 0;
  /**
   * Pending catch-ups: client name → when to run (`at`) and from when on (`since`, the moment
   * it reconnected) announcements count as received.
   */
  private readonly catchUps = new Map<string, { at: number; since: number }[]>();
  /** Cycles completed (tests and metrics). */
  cycles = 0;

  constructor(private readonly options: NotifierOptions) {
    this.settings = options;
    this.book = new NotificationBook({
      renotifyMs: options.renotifyMs,
      threshold: options.threshold,
    });
  }

  /** Starts with an immediate round: after a restart every still-due action is announced. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Waits for the round in progress, then stops. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  configure(settings: NotifierSettings): void {
    this.settings = settings;
    this.book.configure({ renotifyMs: settings.renotifyMs, threshold: settings.threshold });
    this.wake();
  }

  /** Systems asked to check in and not yet done. */
  get inFlight(): number {
    return this.book.askedCount;
  }

  /** Runs a round as soon as possible (coalesced: many calls during a round cause one more). */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Re-announces every due action of this client after `delayMs` (it just came online or
   * reconnected and may have missed earlier messages).
   */
  catchUp(clientName: string, delayMs = 0): void {
    const since = Date.now();
    const at = since + delayMs;
    // Kept separately, not merged: an early catch-up must not swallow a later one.
    const pending = this.catchUps.get(clientName) ?? [];
    if (!pending.some((c) => Math.abs(c.at - at) < 10)) pending.push({ at, since });
    this.catchUps.set(clientName, pending);
    if (delayMs === 0) this.wake();
    else this.scheduleAtMost(delayMs);
  }

  /** After the sockets were re-bound: re-announce everything remembered once clients are back. */
  expedite(delayMs: number): void {
    this.book.expedite(Date.now() + delayMs);
    this.scheduleAtMost(delayMs);
  }

  /**
   * Publishes a checkin at once, outside throttle and memory (custom tooling). A client name
   * always gets one (UnknownClientError if no such push client); a server id only when that
   * system has due work, since only then is its client name known.
   */
  async notify(target: number | string): Promise<NotifyResult> {
    const now = new Date();
    const due = await this.options.store.dueActions(now, {
      includePickedUp: this.settings.includePickedUp,
    });
    let clientName: string;
    let serverId: number;
    let actions: DueAction[];
    if (typeof target === "string") {
      assertClientName(target);
      const client = await this.options.store.findClient(target);
      if (client === undefined) throw new UnknownClientError(target);
      clientName = client.name;
      serverId = client.serverId;
      actions = due.filter((action) => action.clientName === clientName);
    } else {
      actions = due.filter((action) => action.serverId === target);
      const first = actions[0];
      if (first === undefined)
        return { published: false, clientName: null, serverId: target, actionIds: [] };
      clientName = first.clientName;
      serverId = first.serverId;
    }
    await this.send({ clientName, serverId, actions }, now);
    // A round re-plans the wake-ups (the re-announcement of what was just published).
    this.wake();
    return {
      published: true,
      clientName,
      serverId,
      actionIds: actions.map((action) => action.actionId),
    };
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    this.timerAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.schedule(0);
        }
      });
    }, delay);
  }

  /** Brings the next wake-up forward to `delayMs` from now if it is later. */
  private scheduleAtMost(delayMs: number): void {
    // During an outage the back-off timer stands; clients reconnecting must not hammer the database.
    if (this.stopped || this.failures > 0) return;
    if (this.running !== undefined) {
      // The round in progress computes its next wake-up from the catch-ups and the book.
      if (delayMs === 0) this.again = true;
      return;
    }
    if (Date.now() + delayMs < this.timerAt) this.schedule(delayMs);
  }

  private async round(): Promise<void> {
    const started = new Date();
    let next: Date | null;
    try {
      const [due, earliest] = await Promise.all([
        this.options.store.dueActions(started, { includePickedUp: this.settings.includePickedUp }),
        this.options.store.nextEarliestAction(started),
      ]);
      next = earliest;
      const now = started.getTime();
      const catchUp = new Map<string, number>();
      for (const [name, pending] of this.catchUps) {
        const ripe = pending.filter((c) => c.at <= now);
        if (ripe.length === 0) continue;
        catchUp.set(name, Math.max(...ripe.map((c) => c.since)));
        const later = pending.filter((c) => c.at > now);
        if (later.length > 0) this.catchUps.set(name, later);
        else this.catchUps.delete(name);
      }
      const plan = this.book.plan(due, now, this.options.isOnline, catchUp);
      for (const publication of plan.publications) {
        if (this.stopped) break;
        await this.send(publication, started);
      }
      if (plan.deferred > 0) {
        this.options.logger.debug(
          { deferred: plan.deferred, inFlight: this.book.askedCount },
          "throttle full",
        );
      }
      this.cycles += 1;
      if (this.failures > 0)
        this.options.logger.info({ after: this.failures }, "database reachable again");
      this.failures = 0;
      this.options.onDbOk();
    } catch (error) {
      this.failures += 1;
      this.again = false;
      this.options.onDbError(error);
      if (!this.stopped) this.schedule(backoffDelay(this.failures));
      return;
    }
    if (!this.stopped && !this.again) this.planNextWake(next);
  }

  private planNextWake(nextEarliest: Date | null): void {
    const now = Date.now();
    let at = now + this.settings.pollIntervalMs;
    if (nextEarliest !== null) at = Math.min(at, nextEarliest.getTime() + TIMER_SLACK_MS);
    const renotify = this.book.nextRenotifyAt();
    if (renotify !== undefined) at = Math.min(at, renotify + TIMER_SLACK_MS);
    for (const pending of this.catchUps.values()) for (const c of pending) at = Math.min(at, c.at);
    this.schedule(at - now);
  }

  private async send(publication: Publication, at: Date): Promise<void> {
    await this.options.publish(encodeCheckin(publication.clientName));
    const firstTime = this.book.record(publication, at.getTime());
    const event: NotifiedEvent = {
      clientName: publication.clientName,
      serverId: publication.serverId,
      actionIds: publication.actions.map((action) => action.actionId),
    };
    this.options.logger.debug(event, "checkin published");
    this.options.onPublished(event, firstTime, new Date());
  }
}
