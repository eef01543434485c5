import { newPingToken, type ClientHello } from "@osad2/protocol";
import type { Logger } from "@osad2/service-kit";
import type { ClientSender, LostConnections } from "../transport/ports.js";
import type { AuthenticatedHandler, PingTokens } from "./authenticator.js";
import type { ManagedClients } from "./managed-clients.js";
import type { OnlineClients } from "./online-clients.js";
import type { PresenceReport, PresenceSink, PresenceStore } from "./ports.js";

/** osa-dispatcher's deadline for answering a web-UI "ping system" (it hard-coded 20 s). */
export const DEFAULT_UI_PING_TIMEOUT_MS = 20_000;
/** Default of {@link PresenceSettings.messageRefreshMs} (config last_message_refresh). */
export const DEFAULT_MESSAGE_REFRESH_MS = 60_000;
/** Parallel state-change writes at most; more answers wait in a de-duplicated queue. */
const WRITE_CONCURRENCY = 2;
/**
 * Names one state-change write takes from the queue at most (two statements whatever the
 * number): 18,000 clients saying hello after a restart are a few dozen writes, not 36,000.
 */
const WRITE_BATCH = 1_000;
/** Pongs may answer any of the last this many pings (rounds and web-UI pings). */
export const RECENT_PING_TOKENS = 4;
/** How often managed names whose rhnPushClient row is gone are dropped. */
const PRUNE_INTERVAL_MS = 3_600_000;

/** Settings SIGHUP may change. */
export interface PresenceSettings {
  readonly pingIntervalMs: number;
  /** Consecutive unanswered pings before an online client goes offline. */
  readonly missedPings: number;
  /** How often web-UI ping requests and deadlines are checked (action_poll_interval). */
  readonly uiCheckIntervalMs: number;
  /** Deadline for answering a web-UI ping. Default {@link DEFAULT_UI_PING_TIMEOUT_MS}. */
  readonly uiPingTimeoutMs: number;
  /** An online client's last_message_time is rewritten at most this often (last_message_refresh). */
  readonly messageRefreshMs: number;
}

/** Options of {@link Presence}. */
export interface PresenceOptions extends PresenceSettings {
  readonly store: PresenceStore;
  /** Pings to every client (PUB, and each v3 client's own connection). */
  readonly publisher: ClientSender;
  /** Who is online; presence keeps it up to date. */
  readonly online: OnlineClients;
  /** The clients this server manages; no other row is ever written. */
  readonly managed: ManagedClients;
  /** The dispatcher: who is heard from, who is online now, who went offline. */
  readonly sink: PresenceSink;
  readonly report: PresenceReport;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Presence of the managed push clients in rhnPushClient, written as osa-dispatcher writes it:
 * a `ping <token>` to all every ping_interval; a state change (an answer from a client not
 * online, a signed goodbye, `missedPings` unanswered pings, a missed web-UI ping deadline)
 * is written at once; an online client's answers only refresh last_message_time, at most once
 * per messageRefreshMs, for all clients due in ONE statement per ping round. Rows of clients
 * this server does not manage (osa-dispatcher's, in a mixed fleet) are never touched. Also
 * serves Spacewalk's web-UI "ping system" with its 20 s deadline.
 */
export class Presence implements AuthenticatedHandler, PingTokens, LostConnections {
  private settings: PresenceSettings;
  /** Pings sent so far; answers are credited to the latest. */
  private round = 0;
  /** Client → the round it last answered (or was first seen online without an answer). */
  private readonly lastSeen = new Map<string, number>();
  /** Online clients heard since their last_message_time was written. */
  private readonly heard = new Set<string>();
  /** Client → when it last answered (ms). */
  private readonly answeredAt = new Map<string, number>();
  /** Client → when its last_message_time was last written (ms). */
  private readonly writtenAt = new Map<string, number>();
  /** Clients with a web-UI ping outstanding: their answer must be written at once. */
  private readonly uiPending = new Set<string>();
  /** Clients that said goodbye while their online write was queued or in flight. */
  private readonly leaving = new Set<string>();
  private readonly online: OnlineClients;
  /** Names waiting for their state-change write, oldest first. */
  private readonly writeQueue = new Set<string>();
  private readonly writing = new Set<string>();
  /** State-change writes (batches) in flight. */
  private batchesWriting = 0;
  private readonly writesIdle: (() => void)[] = [];
  /**
   * While the round's online-names query runs: the state changes written meanwhile (true =
   * online), which the query may not see yet and which therefore win over its answer.
   */
  private changedDuringQuery: Map<string, boolean> | undefined;
  private lastPrune: number;
  private pingTimer: NodeJS.Timeout | undefined;
  private uiTimer: NodeJS.Timeout | undefined;
  private pingTask: Promise<void> | undefined;
  private uiTask: Promise<void> | undefined;
  private stopped = true;
  /** The tokens of the last {@link RECENT_PING_TOKENS} pings, oldest first. */
  private readonly recentTokens: string[] = [];

  constructor(private readonly options: PresenceOptions) {
    this.settings = options;
    this.online = options.online;
    this.lastPrune = this.now();
  }

  /**
   * Before the first round: drops managed names whose row is gone, then loads which managed
   * clients are online in rhnPushClient (their silence counts from now).
   */
  async refresh(): Promise<void> {
    await this.prune();
    const names = (await this.options.store.onlineClientNames()).filter((name) =>
      this.options.managed.isManaged(name),
    );
    this.online.replace(names);
    for (const name of names) if (!this.lastSeen.has(name)) this.lastSeen.set(name, this.round);
  }

  /** Sends the first ping at once, then every ping interval. */
  start(): void {
    this.stopped = false;
    this.pingTask = this.pingTick();
    this.uiTimer = setTimeout(() => this.runUi(), 0);
  }

  /** Finishes the round and the writes in progress; rows are left as they are (osa-dispatcher's way). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pingTimer);
    clearTimeout(this.uiTimer);
    await Promise.all([this.pingTask, this.uiTask, this.writesDone()]);
    await this.options.managed.flush();
  }

  configure(settings: PresenceSettings): void {
    this.settings = settings;
  }

  /** Whether a pong carrying this token answers one of the last few pings. */
  isRecentPing(token: string): boolean {
    return this.recentTokens.includes(token);
  }

  /** A client answered a ping (its signature verified, or the seed format was allowed). */
  pong(clientName: string): void {
    this.options.sink.contact(clientName, "pong");
    this.answered(clientName);
  }

  /** A client said hello after (re)connecting. */
  hello(clientName: string, hello: ClientHello): void {
    this.options.logger.debug(
      { clientName, software: hello.software, lastRun: hello.lastRun },
      "client hello",
    );
    this.options.sink.contact(clientName, "hello");
    this.answered(clientName);
  }

  /** A client stopped cleanly: offline now rather than after missed pings. */
  goodbye(clientName: string): void {
    this.leave(clientName, "client said goodbye");
  }

  /** A v3 client's connection is gone (a send to it failed): offline now. */
  connectionLost(clientName: string): void {
    this.leave(clientName, "client connection gone");
  }

  private leave(clientName: string, why: string): void {
    this.lastSeen.delete(clientName);
    this.answeredAt.delete(clientName);
    this.uiPending.delete(clientName);
    if (this.writeQueue.delete(clientName)) this.settleWrites();
    if (this.writing.has(clientName)) {
      this.leaving.add(clientName);
      return;
    }
    if (!this.online.isOnline(clientName)) return;
    this.goOffline([clientName], why);
  }

  /**
   * Any answer makes a client online. Only a state change (not online as this server knows
   * it, or a web-UI ping to answer) is written now; otherwise the answer is noted for the
   * round's batched last_message_time refresh.
   */
  private answered(clientName: string): void {
    this.lastSeen.set(clientName, this.round);
    this.answeredAt.set(clientName, this.now());
    this.leaving.delete(clientName);
    const stateChange =
      !this.online.isOnline(clientName) || !this.options.managed.isManaged(clientName);
    if (!stateChange && !this.uiPending.has(clientName)) {
      this.heard.add(clientName);
      return;
    }
    // A write already under way sets last_message_time too (but not for a web-UI ping after it).
    if (this.writing.has(clientName) && !this.uiPending.has(clientName)) return;
    this.writeQueue.add(clientName);
    this.pumpWrites();
  }

  private pumpWrites(): void {
    while (this.batchesWriting < WRITE_CONCURRENCY) {
      const batch: string[] = [];
      // One write per name at a time: a name being written waits for the next turn.
      for (const name of this.writeQueue) {
        if (this.writing.has(name)) continue;
        batch.push(name);
        if (batch.length >= WRITE_BATCH) break;
      }
      if (batch.length === 0) break;
      for (const name of batch) {
        this.writeQueue.delete(name);
        this.writing.add(name);
      }
      this.batchesWriting += 1;
      void this.writeOnline(batch).finally(() => {
        this.batchesWriting -= 1;
        for (const name of batch) this.writing.delete(name);
        this.pumpWrites();
        this.settleWrites();
      });
    }
  }

  private settleWrites(): void {
    if (this.writing.size === 0 && this.writeQueue.size === 0) {
      for (const resolve of this.writesIdle.splice(0)) resolve();
    }
  }

  private writesDone(): Promise<void> {
    if (this.writing.size === 0 && this.writeQueue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.writesIdle.push(resolve));
  }

  /** online, last_message_time = now, ping times cleared: state changes or web-UI ping answers. */
  private async writeOnline(names: readonly string[]): Promise<void> {
    const hadUiPing = names.filter((name) => this.uiPending.delete(name));
    try {
      // Saved as managed first: after a crash the restarted server still owns these rows.
      await Promise.all(names.map((name) => this.options.managed.admit(name)));
      const at = this.now();
      const wasOffline = new Set(await this.options.store.markManyOnline(names, new Date(at)));
      for (const name of names) {
        this.changedDuringQuery?.set(name, true);
        this.writtenAt.set(name, at);
        this.heard.delete(name);
        const newlyOnline = this.online.add(name);
        const cameOnline = wasOffline.has(name);
        if (cameOnline) this.options.report.cameOnline(name);
        if (newlyOnline || cameOnline) this.options.sink.online(name, cameOnline);
      }
    } catch (error) {
      // Retried on the clients' next answer (they are not online as far as this server knows).
      for (const name of hadUiPing) this.uiPending.add(name);
      this.options.report.presenceFailed(error);
      return;
    }
    const left = names.filter((name) => this.leaving.delete(name));
    if (left.length > 0) this.goOffline(left, "client said goodbye");
  }

  private goOffline(names: readonly string[], why: string): void {
    this.takeOffline(names, why).catch((error: unknown) =>
      this.options.report.presenceFailed(error),
    );
  }

  private async pingTick(): Promise<void> {
    try {
      await this.reconcile();
    } catch (error) {
      this.options.report.presenceFailed(error);
    }
    try {
      await this.refreshMessageTimes();
    } catch (error) {
      this.options.report.presenceFailed(error);
    }
    if (this.now() - this.lastPrune >= PRUNE_INTERVAL_MS) {
      this.lastPrune = this.now();
      await this.prune().catch((error: unknown) => this.options.report.presenceFailed(error));
    }
    await this.options.managed.flush();
    if (this.stopped) return;
    try {
      this.round += 1;
      await this.options.publisher.ping(this.nextToken());
    } catch (error) {
      this.options.logger.error({ err: error }, "ping could not be published");
    }
    this.forgetStale();
    if (!this.stopped) {
      this.pingTimer = setTimeout(() => {
        this.pingTask = this.pingTick();
      }, this.settings.pingIntervalMs);
    }
  }

  /** A fresh ping token, remembered so pongs can be checked against it. */
  private nextToken(): string {
    const token = newPingToken();
    this.recentTokens.push(token);
    if (this.recentTokens.length > RECENT_PING_TOKENS) this.recentTokens.shift();
    return token;
  }

  /**
   * Once a round: who of the managed clients rhnPushClient has online. Those that did not
   * answer the last `missedPings` pings go offline. A row that went offline behind this
   * server's back (a re-registration) is no longer online here, so its next answer writes it
   * online again. Rows of clients this server does not manage are only read.
   */
  private async reconcile(): Promise<void> {
    const changed = new Map<string, boolean>();
    this.changedDuringQuery = changed;
    let names: string[];
    try {
      names = await this.options.store.onlineClientNames();
    } finally {
      this.changedDuringQuery = undefined;
    }
    const online = new Set<string>();
    const silent: string[] = [];
    for (const name of names) {
      if (!this.options.managed.isManaged(name) || changed.has(name)) continue;
      const seen = this.lastSeen.get(name);
      if (seen === undefined) {
        // First sight (after a restart, or written online by an earlier run): count from now.
        this.lastSeen.set(name, this.round);
      } else if (this.round - seen >= this.settings.missedPings) {
        silent.push(name);
      }
      online.add(name);
    }
    // Written since the query started: the query may not have seen those writes.
    for (const [name, isOnline] of changed) if (isOnline) online.add(name);
    const dropped = [...this.online].filter((name) => !online.has(name));
    // Replaced before any await, so no answer written meanwhile is lost; the silent ones
    // stay online until their offline write is done.
    this.online.replace(online);
    if (dropped.length > 0) {
      for (const name of dropped) this.forgetWrites(name);
      this.options.logger.info(
        { clients: dropped.slice(0, 20), count: dropped.length },
        "clients went offline in rhnPushClient outside presence (re-registered?)",
      );
      this.options.sink.offline(dropped);
      this.options.report.wentOffline(dropped);
    }
    if (silent.length > 0) await this.takeOffline(silent, "clients went offline (missed pings)");
  }

  /**
   * ONE statement for every online client heard since its last write whose last_message_time
   * is at least messageRefreshMs old: 10,000 idle clients cost one UPDATE per ping round at
   * most, not one per client per ping.
   */
  private async refreshMessageTimes(): Promise<void> {
    if (this.heard.size === 0) return;
    const now = this.now();
    const due: string[] = [];
    for (const name of this.heard) {
      if (!this.online.isOnline(name)) {
        this.heard.delete(name);
        continue;
      }
      if (now - (this.writtenAt.get(name) ?? -Infinity) >= this.settings.messageRefreshMs) {
        due.push(name);
      }
    }
    if (due.length === 0) return;
    await this.options.store.refreshMessageTimes(due, new Date(now));
    for (const name of due) {
      this.writtenAt.set(name, now);
      this.heard.delete(name);
    }
  }

  private async prune(): Promise<void> {
    const removed = await this.options.managed.prune();
    if (removed > 0) {
      this.options.logger.info(
        { count: removed },
        "no longer managing push clients whose rhnPushClient row is gone",
      );
    }
  }

  /** Bounded memory: names not heard of for a while (renamed by register_osad, deleted). */
  private forgetStale(): void {
    const horizon = this.round - this.settings.missedPings - 2;
    for (const [name, seen] of this.lastSeen) {
      if (seen < horizon && !this.online.isOnline(name)) {
        this.lastSeen.delete(name);
        this.answeredAt.delete(name);
        this.forgetWrites(name);
      }
    }
  }

  private answeredRecently(name: string): boolean {
    const at = this.answeredAt.get(name);
    return (
      at !== undefined &&
      this.online.isOnline(name) &&
      this.now() - at < this.settings.pingIntervalMs * this.settings.missedPings
    );
  }

  private forgetWrites(name: string): void {
    this.writtenAt.delete(name);
    this.heard.delete(name);
  }

  private runUi(): void {
    this.uiTask = this.uiTick().finally(() => {
      if (!this.stopped)
        this.uiTimer = setTimeout(() => this.runUi(), this.settings.uiCheckIntervalMs);
    });
  }

  /**
   * Spacewalk's "ping system" sets last_ping_time and clears next_action_time. As
   * osa-dispatcher did: set the deadline first, then ping, so a fast answer (which clears
   * both) cannot be followed by a stale deadline; past the deadline the client goes offline.
   * Only for managed clients: osa-dispatcher serves its own.
   */
  private async uiTick(): Promise<void> {
    const store = this.options.store;
    const managed = this.options.managed;
    try {
      const requested = (await store.requestedPings()).filter((name) => managed.isManaged(name));
      if (requested.length > 0) {
        const deadline = new Date(this.now() + this.settings.uiPingTimeoutMs);
        for (const name of requested) {
          this.uiPending.add(name);
          await store.setPingDeadline(name, deadline);
        }
        await this.options.publisher.ping(this.nextToken());
        this.options.logger.debug(
          { clients: requested.slice(0, 20), count: requested.length },
          "web UI ping sent",
        );
      }
      const expired = (await store.expiredPingDeadlines(new Date(this.now()))).filter((name) =>
        managed.isManaged(name),
      );
      const missed: string[] = [];
      for (const name of expired) {
        // A deadline this server did not set (it restarted meanwhile, or another writer set
        // it): a client that keeps answering did answer, as osa-dispatcher would count any
        // signed message; written online, which clears both ping times.
        if (!this.uiPending.has(name) && this.answeredRecently(name)) {
          this.uiPending.add(name);
          this.writeQueue.add(name);
        } else {
          missed.push(name);
        }
      }
      this.pumpWrites();
      if (missed.length > 0)
        await this.takeOffline(missed, "clients missed the web UI ping deadline");
    } catch (error) {
      this.options.report.presenceFailed(error);
    }
  }

  /** Writes them offline (ping times cleared), forgets their answers and tells the dispatcher and telemetry. */
  private async takeOffline(names: readonly string[], why: string): Promise<void> {
    await this.options.store.markOffline(names);
    for (const name of names) {
      this.changedDuringQuery?.set(name, false);
      this.uiPending.delete(name);
      this.online.delete(name);
      this.forgetWrites(name);
    }
    this.options.logger.info({ clients: names.slice(0, 20), count: names.length }, why);
    this.options.sink.offline(names);
    this.options.report.wentOffline(names);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
