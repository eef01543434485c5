import { encodePing, newPingToken, type ClientHello } from "@osad2/protocol";
import type { Logger } from "@osad2/service-kit";
import type { Publisher } from "../transport/ports.js";
import type { AuthenticatedHandler, PingTokens } from "./authenticator.js";
import type { OnlineClients } from "./online-clients.js";
import type { PresenceReport, PresenceSink, PresenceStore } from "./ports.js";

/** osa-dispatcher's deadline for answering a web-UI "ping system" (it hard-coded 20 s). */
export const DEFAULT_UI_PING_TIMEOUT_MS = 20_000;
/** Parallel markOnline writes at most; more answers wait in a de-duplicated queue. */
const WRITE_CONCURRENCY = 4;
/** Pongs may answer any of the last this many pings (rounds and web-UI pings). */
export const RECENT_PING_TOKENS = 4;

/** Settings SIGHUP may change. */
export interface PresenceSettings {
  readonly pingIntervalMs: number;
  /** Consecutive unanswered pings before an online client goes offline. */
  readonly missedPings: number;
  /** How often web-UI ping requests and deadlines are checked (action_poll_interval). */
  readonly uiCheckIntervalMs: number;
  /** Deadline for answering a web-UI ping. Default {@link DEFAULT_UI_PING_TIMEOUT_MS}. */
  readonly uiPingTimeoutMs: number;
}

/** Options of {@link Presence}. */
export interface PresenceOptions extends PresenceSettings {
  readonly store: PresenceStore;
  readonly publisher: Publisher;
  /** Who is online; presence keeps it up to date. */
  readonly online: OnlineClients;
  /** The dispatcher: who is heard from, who is online now, who went offline. */
  readonly sink: PresenceSink;
  readonly report: PresenceReport;
  readonly logger: Logger;
}

/**
 * Presence, as the seed and osa-dispatcher kept it in rhnPushClient: a `ping <token>` to all
 * every ping_interval; any answer makes a client online (last_message_time = now); an online
 * client that misses `missedPings` pings in a row goes offline. Also serves Spacewalk's web-UI
 * "ping system" with its 20 s deadline.
 */
export class Presence implements AuthenticatedHandler, PingTokens {
  private settings: PresenceSettings;
  /** Pings sent so far; answers are credited to the latest. */
  private round = 0;
  /** Client → the round it last answered (or was first seen online without an answer). */
  private readonly lastSeen = new Map<string, number>();
  /** Client → the round its last markOnline was written (one write per client per round). */
  private readonly written = new Map<string, number>();
  /** Clients with a web-UI ping outstanding: their answer must be written at once. */
  private readonly uiPending = new Set<string>();
  private readonly online: OnlineClients;
  /** Names waiting for their markOnline write, oldest first. */
  private readonly writeQueue = new Set<string>();
  private writers = 0;
  private readonly writesIdle: (() => void)[] = [];
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
  }

  /** Loads who is online from the database (before the notifier's first round). */
  async refresh(): Promise<void> {
    const names = await this.options.store.onlineClientNames();
    this.online.replace(names);
    for (const name of names) if (!this.lastSeen.has(name)) this.lastSeen.set(name, this.round);
  }

  /** Sends the first ping at once, then every ping interval. */
  start(): void {
    this.stopped = false;
    this.pingTask = this.pingTick();
    this.uiTimer = setTimeout(() => this.runUi(), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pingTimer);
    clearTimeout(this.uiTimer);
    await Promise.all([this.pingTask, this.uiTask, this.writesDone()]);
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
    if (!this.online.isOnline(clientName)) return;
    this.lastSeen.delete(clientName);
    this.takeOffline([clientName], "client said goodbye").catch((error: unknown) =>
      this.options.report.presenceFailed(error),
    );
  }

  /** Any answer makes a client online: one markOnline per client per ping round, more only for a web-UI ping. */
  private answered(clientName: string): void {
    this.lastSeen.set(clientName, this.round);
    if (this.written.get(clientName) === this.round && !this.uiPending.has(clientName)) return;
    this.written.set(clientName, this.round);
    this.writeQueue.add(clientName);
    this.pumpWrites();
  }

  private pumpWrites(): void {
    while (this.writers < WRITE_CONCURRENCY && this.writeQueue.size > 0) {
      const name = this.writeQueue.values().next().value as string;
      this.writeQueue.delete(name);
      this.writers += 1;
      void this.writeOnline(name).finally(() => {
        this.writers -= 1;
        this.pumpWrites();
        if (this.writers === 0 && this.writeQueue.size === 0) {
          for (const resolve of this.writesIdle.splice(0)) resolve();
        }
      });
    }
  }

  private writesDone(): Promise<void> {
    if (this.writers === 0 && this.writeQueue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.writesIdle.push(resolve));
  }

  private async writeOnline(name: string): Promise<void> {
    const hadUiPing = this.uiPending.delete(name);
    try {
      const wasOffline = await this.options.store.markOnline(name, new Date());
      const newlyOnline = this.online.add(name);
      if (wasOffline) this.options.report.cameOnline(name);
      if (newlyOnline || wasOffline) this.options.sink.online(name, wasOffline);
    } catch (error) {
      // Retried on the client's next answer.
      this.written.delete(name);
      if (hadUiPing) this.uiPending.add(name);
      this.options.report.presenceFailed(error);
    }
  }

  private async pingTick(): Promise<void> {
    try {
      await this.reapSilentClients();
    } catch (error) {
      this.options.report.presenceFailed(error);
    }
    if (this.stopped) return;
    try {
      this.round += 1;
      await this.options.publisher.publish(encodePing(this.nextToken()));
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

  /** Online clients that did not answer the last `missedPings` pings go offline. */
  private async reapSilentClients(): Promise<void> {
    const names = await this.options.store.onlineClientNames();
    const silent: string[] = [];
    for (const name of names) {
      const seen = this.lastSeen.get(name);
      if (seen === undefined) {
        // First sight (server start, or another process set it online): count from now.
        this.lastSeen.set(name, this.round);
      } else if (this.round - seen >= this.settings.missedPings) {
        silent.push(name);
      }
    }
    if (silent.length > 0) await this.takeOffline(silent, "clients went offline (missed pings)");
    const online = new Set(names);
    for (const name of silent) online.delete(name);
    // Answers that arrived during the query already added themselves; keep them.
    for (const name of this.online) if (this.lastSeen.get(name) === this.round) online.add(name);
    this.online.replace(online);
  }

  /** Bounded memory: names not heard of for a while (renamed by register_osad, deleted). */
  private forgetStale(): void {
    const horizon = this.round - this.settings.missedPings - 2;
    for (const [name, seen] of this.lastSeen) {
      if (seen < horizon && !this.online.isOnline(name)) {
        this.lastSeen.delete(name);
        this.written.delete(name);
      }
    }
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
   */
  private async uiTick(): Promise<void> {
    const store = this.options.store;
    try {
      const requested = await store.requestedPings();
      if (requested.length > 0) {
        const deadline = new Date(Date.now() + this.settings.uiPingTimeoutMs);
        for (const name of requested) {
          this.uiPending.add(name);
          await store.setPingDeadline(name, deadline);
        }
        await this.options.publisher.publish(encodePing(this.nextToken()));
        this.options.logger.debug(
          { clients: requested.slice(0, 20), count: requested.length },
          "web UI ping sent",
        );
      }
      const expired = await store.expiredPingDeadlines(new Date());
      if (expired.length > 0)
        await this.takeOffline(expired, "clients missed the web UI ping deadline");
    } catch (error) {
      this.options.report.presenceFailed(error);
    }
  }

  /** Writes them offline, forgets their answers and tells the dispatcher and telemetry. */
  private async takeOffline(names: readonly string[], why: string): Promise<void> {
    await this.options.store.markOffline(names);
    for (const name of names) {
      this.uiPending.delete(name);
      this.online.delete(name);
      this.written.delete(name);
    }
    this.options.logger.info({ clients: names.slice(0, 20), count: names.length }, why);
    this.options.sink.offline(names);
    this.options.report.wentOffline(names);
  }
}
