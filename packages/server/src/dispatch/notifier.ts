import { setImmediate as nextTurn } from "node:timers/promises";
import { assertClientName } from "@osad2/protocol";
import { backoffDelay } from "@osad2/service-kit";
import type { DueAction } from "../db/types.js";
import { UnknownClientError } from "../errors.js";
import type { Logger } from "@osad2/service-kit";
import type { OnlineView, PresenceSink } from "../presence/ports.js";
import type { ClientSender } from "../transport/ports.js";
import { NotificationBook, type Publication } from "./notification-book.js";
import type {
  DispatchReport,
  DispatchStore,
  FirstAnnouncement,
  NotifiedEvent,
  NotifyResult,
} from "./ports.js";
import { Reachability } from "./reachability.js";
import {
  DEFAULT_FIRST_WINDOW_MS,
  DEFAULT_MAX_WINDOW_MS,
  WakeCoalescer,
  type CoalescingSettings,
} from "./wake-coalescer.js";

/** Settings that SIGHUP may change. */
export interface NotifierSettings {
  /** Re-announce an action still due this long after it was last announced (renotify_interval). */
  readonly renotifyMs: number;
  /** notify_threshold (alias checkin_count): slots for running and asked systems; 0 = unlimited. */
  readonly threshold: number;
  /** A round at least this often (action_poll_interval). */
  readonly pollIntervalMs: number;
  /** Picked-up (status 1) actions count as due (renotify_picked_up). */
  readonly includePickedUp: boolean;
  /** After a hello, address the client only after a pong or this long. */
  readonly helloGraceMs: number;
}

/** Options of {@link Notifier}. */
export interface NotifierOptions extends NotifierSettings {
  readonly store: DispatchStore;
  readonly publisher: ClientSender;
  /** Who is online (presence keeps it). */
  readonly online: OnlineView;
  readonly report: DispatchReport;
  readonly logger: Logger;
  /** How bursts of {@link Notifier.wake} calls share rounds. Default 20 ms widening to 1 s. */
  readonly coalescing?: CoalescingSettings;
}

// Timers further out than this are cut short; the poll interval is far shorter anyway.
const MAX_TIMER_MS = 2 ** 31 - 1;
// libuv timers may fire a hair early relative to Date.now(); the database compares with our clock.
const TIMER_SLACK_MS = 2;
const NOTHING_RUNNING: ReadonlySet<number> = new Set();
/**
 * Checkins a round sends before it gives the event loop a turn. A send that libzmq queues at
 * once resolves as a microtask, so without a turn a mass action to 18,000 clients held the loop
 * for the whole send (≈ 1.5 s): handshakes, pongs and /healthz waited behind it.
 */
export const SEND_BATCH = 500;

/**
 * Announces due actions: one `system:<name> checkin` per due action per client, re-announced
 * after renotify_interval, throttled by notify_threshold as osa-dispatcher is (systems with
 * picked-up actions and systems asked and not yet picked up share the slots), addressed only to
 * clients whose subscription is in place ({@link Reachability}). It runs a round on a poll
 * timer, exactly at the next earliest_action, at the next re-announcement or catch-up, and
 * whenever {@link wake} is called (the database changed: PostgreSQL NOTIFY, a SQLite commit),
 * bursts of those coalesced ({@link WakeCoalescer}); presence tells it about clients. A round
 * asks the database only about the clients it has heard from.
 */
export class Notifier implements PresenceSink {
  private readonly book: NotificationBook;
  private readonly reachability: Reachability;
  private readonly coalescer: WakeCoalescer;
  private settings: NotifierSettings;
  private timer: NodeJS.Timeout | undefined;
  /** When {@link timer} fires (ms since the epoch). */
  private timerAt = Infinity;
  private running: Promise<void> | undefined;
  /** A round is due as soon as the one in progress ends. */
  private again = false;
  /** A coalesced wake-up asked, during the round in progress, for a round at this time (ms). */
  private wakeAfterRoundAt = Infinity;
  private stopped = true;
  private failures = 0;
  /** Rounds completed (tests and metrics). */
  cycles = 0;

  constructor(private readonly options: NotifierOptions) {
    this.settings = options;
    this.book = new NotificationBook({
      renotifyMs: options.renotifyMs,
      threshold: options.threshold,
    });
    this.reachability = new Reachability(
      { helloGraceMs: options.helloGraceMs, renotifyMs: options.renotifyMs },
      options.online,
    );
    this.coalescer = new WakeCoalescer(
      options.coalescing ?? {
        firstWindowMs: DEFAULT_FIRST_WINDOW_MS,
        maxWindowMs: DEFAULT_MAX_WINDOW_MS,
      },
    );
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
    this.reachability.configure({
      helloGraceMs: settings.helloGraceMs,
      renotifyMs: settings.renotifyMs,
    });
    this.wake();
  }

  /** Systems asked to check in and not yet done. */
  get inFlight(): number {
    return this.book.askedCount;
  }

  /**
   * The database changed: runs a round at once after quiet, and shares rounds among the
   * calls of a burst (see {@link WakeCoalescer}); a call during a round causes one more.
   */
  wake(): void {
    if (this.stopped) return;
    const now = Date.now();
    const at = this.coalescer.wake(now);
    if (this.running !== undefined) {
      if (at <= now) this.again = true;
      else this.wakeAfterRoundAt = Math.min(this.wakeAfterRoundAt, at);
      return;
    }
    if (at < this.timerAt) this.schedule(at - now);
  }

  /** A hello or a pong from a client: it may now be addressable, and may have missed checkins. */
  contact(clientName: string, kind: "hello" | "pong"): void {
    const now = Date.now();
    const due =
      kind === "hello"
        ? this.reachability.hello(clientName, now)
        : this.reachability.pong(clientName, now);
    if (due !== undefined) this.wakeBy(due);
  }

  online(clientName: string, wasOffline: boolean): void {
    const due = this.reachability.online(clientName, wasOffline, Date.now());
    if (due !== undefined) this.wakeBy(due);
  }

  offline(clientNames: readonly string[]): void {
    this.reachability.forget(clientNames);
    this.book.forgetClients(clientNames);
  }

  /** After the sockets were re-bound: re-announce everything remembered once clients are back. */
  /** The sockets were replaced and every client cut off: see Reachability.connectionsReplaced. */
  connectionsReplaced(): void {
    this.reachability.connectionsReplaced();
  }

  expedite(delayMs: number): void {
    const at = Date.now() + delayMs;
    this.book.expedite(at);
    this.wakeBy(at);
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
      this.coalescer.roundStarted(Date.now());
      this.running = this.round().finally(() => {
        this.running = undefined;
        const wakeAt = this.wakeAfterRoundAt;
        this.wakeAfterRoundAt = Infinity;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else if (wakeAt < this.timerAt) {
          this.schedule(wakeAt - Date.now());
        }
      });
    }, delay);
  }

  /** Brings the next round forward to `at` (ms since the epoch) if it is later. */
  private wakeBy(at: number): void {
    // During an outage the back-off timer stands; clients reconnecting must not hammer the database.
    if (this.stopped || this.failures > 0) return;
    const delayMs = at - Date.now();
    if (this.running !== undefined) {
      // The round in progress plans its next wake-up from the catch-ups and the book.
      if (delayMs <= 0) this.again = true;
      return;
    }
    if (at < this.timerAt) this.schedule(delayMs);
  }

  private async round(): Promise<void> {
    const started = new Date();
    const now = started.getTime();
    let next: Date | null;
    try {
      // Only clients heard from can be addressed; the others' work waits for their hello.
      const clients = this.reachability.candidates();
      const [due, earliest] = await Promise.all([
        this.options.store.dueActions(started, {
          includePickedUp: this.settings.includePickedUp,
          clients,
        }),
        this.options.store.nextEarliestAction(started, { clients }),
      ]);
      next = earliest;
      const reachable = (name: string): boolean => this.reachability.isReachable(name, now);
      // The throttle's count reads all of rhnServerAction: only when a system would take a slot.
      const running =
        this.settings.threshold > 0 &&
        this.book.wantsSlot(due, now, reachable, this.reachability.peekCatchUps(now))
          ? new Set(await this.options.store.runningSystems())
          : NOTHING_RUNNING;
      const catchUps = this.reachability.takeCatchUps(now);
      const asked = new Set(clients);
      const plan = this.book.plan(due, now, reachable, catchUps, running, (name) =>
        asked.has(name),
      );
      let sent = 0;
      for (const publication of plan.publications) {
        if (this.stopped) break;
        await this.send(publication, started);
        sent += 1;
        if (sent % SEND_BATCH === 0) await nextTurn();
      }
      if (plan.deferred > 0) {
        this.options.logger.debug(
          { deferred: plan.deferred, inFlight: this.book.askedCount },
          "throttle full",
        );
      }
      // The work gauges come from what the round read anyway: no query of their own.
      this.options.report.roundCompleted({
        dueActions: due.length,
        throttledSystems: plan.deferred,
        inFlightSystems: this.book.inFlightCount(due),
      });
      this.cycles += 1;
      if (this.failures > 0)
        this.options.logger.info({ after: this.failures }, "database reachable again");
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      this.again = false;
      this.wakeAfterRoundAt = Infinity;
      this.options.report.roundFailed(error);
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
    const catchUp = this.reachability.nextCatchUpAt(now);
    if (catchUp !== undefined) at = Math.min(at, catchUp);
    this.schedule(at - now);
  }

  private async send(publication: Publication, at: Date): Promise<void> {
    await this.options.publisher.checkin(publication.clientName);
    const connected = this.reachability.connectedSince(publication.clientName) ?? 0;
    const firstTime = this.book
      .record(publication, at.getTime())
      .map((action): FirstAnnouncement => ({
        action,
        pushableSince: new Date(
          Math.max(action.created.getTime(), action.earliestAction.getTime(), connected),
        ),
      }));
    const event: NotifiedEvent = {
      clientName: publication.clientName,
      serverId: publication.serverId,
      actionIds: publication.actions.map((action) => action.actionId),
    };
    this.options.logger.debug(event, "checkin published");
    this.options.report.published(event, firstTime, new Date());
  }
}
