import type { OnlineView } from "../presence/ports.js";

/** Default of {@link ReachabilitySettings.helloGraceMs}. */
export const DEFAULT_HELLO_GRACE_MS = 250;
/** Contacts of clients presence never saw online (no rhnPushClient row) are dropped after this. */
const UNCONFIRMED_CONTACT_MS = 10 * 60_000;

/** Settings SIGHUP may change. */
export interface ReachabilitySettings {
  /**
   * After a hello, how long a client is not addressed unless it answers a ping: its SUB
   * subscription travels on another connection and may not be in place yet.
   */
  readonly helloGraceMs: number;
  /**
   * A hello re-announces a client's due work at most once per this window (renotify_interval):
   * a client that reconnects 67 times in 20 s runs rhn_check once, not 67 times.
   */
  readonly renotifyMs: number;
}

interface Contact {
  /** When the last hello came, or the first pong of a client that never says hello. */
  readonly at: number;
  /** A pong since proved its SUB subscription is in place. */
  readonly proven: boolean;
}

interface CatchUp {
  /** Announcements made before this moment count as missed (the client reconnected then). */
  readonly since: number;
  /** Not before this moment (a hello's grace). */
  readonly at: number;
}

/**
 * Which clients the dispatcher may address, and what they may have missed: the one home of the
 * rule "announce a client's due work once its subscription is proven".
 *
 * - A client is addressed only when presence has it online and this process has heard from it:
 *   a pong (its SUB received our ping, so its subscription works), or a hello at least
 *   `helloGraceMs` ago (a hello comes over the DEALER; the SUB subscribes over another
 *   connection). After a restart this process has heard from nobody, so nothing is published
 *   into the void before the clients have reconnected.
 * - Whenever a client (re)connects — a hello, the first pong of a seed client (which never says
 *   hello), or presence finding a proven client offline in rhnPushClient — what was announced
 *   for it before that moment is announced again (a catch-up), once it is addressable and, after
 *   a hello, not before the grace has passed.
 *
 * Pure bookkeeping: the dispatcher asks it each round and plans its wake-ups from it.
 */
export class Reachability {
  private readonly contacts = new Map<string, Contact>();
  /** Kept separately, not merged: an early catch-up must not swallow a later one. */
  private readonly catchUps = new Map<string, CatchUp[]>();
  /** Client → when its last hello caught it up. */
  private readonly helloCatchUps = new Map<string, number>();

  constructor(
    private settings: ReachabilitySettings,
    private readonly presence: OnlineView,
  ) {}

  configure(settings: ReachabilitySettings): void {
    this.settings = settings;
  }

  /**
   * A hello: the client's DEALER (re)connected. Returns when its catch-up is due, or undefined
   * when a hello already caught it up within renotify_interval (the renotify timer covers it).
   */
  hello(clientName: string, now: number): number | undefined {
    this.contacts.set(clientName, { at: now, proven: false });
    const last = this.helloCatchUps.get(clientName);
    if (last !== undefined && now - last < this.settings.renotifyMs) return undefined;
    this.helloCatchUps.set(clientName, now);
    return this.addCatchUp(clientName, now, now + this.settings.helloGraceMs);
  }

  /** A pong: the client's subscription works. Returns when its catch-up is due on first contact. */
  pong(clientName: string, now: number): number | undefined {
    const prior = this.contacts.get(clientName);
    this.contacts.set(clientName, { at: prior?.at ?? now, proven: true });
    return prior === undefined ? this.addCatchUp(clientName, now, now) : undefined;
  }

  /**
   * Presence counts the client online now (`wasOffline`: rhnPushClient said offline before).
   * Returns when a catch-up of it is due: it may have waited for exactly this.
   */
  online(clientName: string, wasOffline: boolean, now: number): number | undefined {
    if (wasOffline && this.contacts.get(clientName)?.proven === true)
      return this.addCatchUp(clientName, now, now);
    const pending = this.catchUps.get(clientName);
    return pending === undefined ? undefined : Math.min(...pending.map((c) => c.at));
  }

  /** Gone offline: the client's next message is a first contact again. */
  forget(clientNames: readonly string[]): void {
    for (const name of clientNames) {
      this.contacts.delete(name);
      this.catchUps.delete(name);
      this.helloCatchUps.delete(name);
    }
  }

  /**
   * Every connection was cut (the sockets were replaced): as after a restart, nobody is
   * addressed until it speaks again, and each reconnecting hello gets its catch-up whatever
   * renotify_interval says (the limit is for hellos over a connection that stayed up).
   */
  connectionsReplaced(): void {
    this.contacts.clear();
    this.helloCatchUps.clear();
  }

  /** When this process last heard the client (re)connect: its last hello, or its first pong. */
  connectedSince(clientName: string): number | undefined {
    return this.contacts.get(clientName)?.at;
  }

  /** Whether a checkin published for this client now would reach it. */
  isReachable(clientName: string, now: number): boolean {
    const contact = this.contacts.get(clientName);
    if (contact === undefined || !this.presence.isOnline(clientName)) return false;
    return contact.proven || now - contact.at >= this.settings.helloGraceMs;
  }

  /**
   * The clients a round must ask the database about: heard from and online. Everyone
   * reachable now is among them, and so is everyone whose hello grace is still running.
   */
  candidates(): string[] {
    return [...this.contacts.keys()].filter((name) => this.presence.isOnline(name));
  }

  /** What {@link takeCatchUps} would take now, without taking it. */
  peekCatchUps(now: number): Map<string, number> {
    const due = new Map<string, number>();
    for (const [name, pending] of this.catchUps) {
      const ready = pending.filter((c) => c.at <= now);
      if (ready.length === 0 || !this.isReachable(name, now)) continue;
      due.set(name, Math.max(...ready.map((c) => c.since)));
    }
    return due;
  }

  /**
   * Takes the catch-ups due now of clients reachable now: client name → the moment before
   * which its announcements count as missed. Due catch-ups of clients not reachable yet (not
   * online yet) stay until they are.
   */
  takeCatchUps(now: number): Map<string, number> {
    this.dropUnconfirmed(now);
    const taken = this.peekCatchUps(now);
    for (const name of taken.keys()) {
      const later = (this.catchUps.get(name) ?? []).filter((c) => c.at > now);
      if (later.length > 0) this.catchUps.set(name, later);
      else this.catchUps.delete(name);
    }
    return taken;
  }

  /** When the next catch-up not yet due falls due, or undefined. */
  nextCatchUpAt(now: number): number | undefined {
    let next: number | undefined;
    for (const pending of this.catchUps.values()) {
      for (const c of pending) if (c.at > now && (next === undefined || c.at < next)) next = c.at;
    }
    return next;
  }

  private addCatchUp(clientName: string, since: number, at: number): number {
    const pending = this.catchUps.get(clientName) ?? [];
    if (!pending.some((c) => Math.abs(c.at - at) < 10)) pending.push({ since, at });
    this.catchUps.set(clientName, pending);
    return at;
  }

  /** Bounded memory: names that spoke but never became online (renamed, no rhnPushClient row). */
  private dropUnconfirmed(now: number): void {
    for (const [name, contact] of this.contacts) {
      if (now - contact.at > UNCONFIRMED_CONTACT_MS && !this.presence.isOnline(name))
        this.forget([name]);
    }
  }
}
