import type { DueAction } from "../db/types.js";

/** One `system:<name> checkin` to publish, covering every due action of one system that needs it. */
export interface Publication {
  readonly clientName: string;
  readonly serverId: number;
  /** The actions this message announces (first time, re-announce or catch-up). */
  readonly actions: readonly DueAction[];
}

/** Settings of the book; both can change at run time (SIGHUP). */
export interface BookSettings {
  /** Re-announce an action still due this long after it was last announced. */
  readonly renotifyMs: number;
  /**
   * notify_threshold, as osa-dispatcher applies it: systems with picked-up actions (status 1,
   * any system) and systems asked and not yet picked up together occupy at most this many
   * slots; each newly asked system takes one. 0 = unlimited.
   */
  readonly threshold: number;
}

/** The result of one planning pass. */
export interface Plan {
  readonly publications: readonly Publication[];
  /** Systems with due work left waiting because the throttle is full. */
  readonly deferred: number;
}

// The client name is part of the key: register_osad gives a system a new name, and an
// announcement on the old topic reached nobody.
const actionKey = (action: DueAction): string =>
  `${action.serverId}:${action.actionId}:${action.clientName}`;
// The latency histogram counts an action once per system, whatever name its client has now.
const measureKey = (action: DueAction): string => `${action.serverId}:${action.actionId}`;

/** One remembered announcement. */
interface Announced {
  /** When it was last published (ms). */
  readonly at: number;
  readonly clientName: string;
}

/**
 * In-memory bookkeeping of what was announced when: which (system, action) pairs were
 * published, and which systems are "asked and not yet done" (they still have due work).
 * Pure and synchronous; the notifier feeds it the database's due list.
 *
 * It is deliberately not persisted: after a restart the book is empty, so every action that
 * is still due is announced again. That is what makes kill -9 between scheduling and
 * delivery safe, at the cost of one extra checkin per due action after a restart.
 */
export class NotificationBook {
  /** (server, action, client name) → when it was last announced. */
  private readonly notified = new Map<string, Announced>();
  /**
   * Client name → its keys in {@link notified}: clients going offline one by one (connections
   * found gone) must not each walk every announcement (18,000 × 18,000 after a mass action).
   */
  private readonly notifiedByClient = new Map<string, Set<string>>();
  /** Systems asked to check in and not done yet, with their client names. */
  private readonly asked = new Map<number, string>();
  /**
   * (server, action) → client name, for every action announced and still due. Unlike
   * {@link notified} it survives renames and the client going offline: a re-announcement
   * after a register_osad or a reconnection is not a first announcement for the latency.
   */
  private readonly measured = new Map<string, string>();

  constructor(private settings: BookSettings) {}

  configure(settings: BookSettings): void {
    this.settings = settings;
  }

  /** Systems asked and not yet done (occupying throttle slots). */
  get askedCount(): number {
    return this.asked.size;
  }

  /** Systems asked whose due work (the round's list) still has a queued action: not picked up yet. */
  inFlightCount(due: readonly DueAction[]): number {
    const queued = new Set<number>();
    for (const action of due) {
      if (action.status === 0 && this.asked.get(action.serverId) === action.clientName)
        queued.add(action.serverId);
    }
    return queued.size;
  }

  /**
   * Decides what to publish given the complete list of due actions (ordered by status,
   * earliest_action and server, as the store returns it). Systems no longer in the list are done and
   * free their slot; systems whose client is not online are skipped (they get a catch-up
   * when they come back) and hold no slot.
   *
   * @param catchUp client name → a time (ms): re-announce that client's due actions last
   *   announced before it (it reconnected then and may have missed them).
   * @param running systems with a picked-up (status 1) action, all of them (osa-dispatcher's
   *   `count(distinct server_id) … where status = 1`); they occupy throttle slots.
   * @param inScope the clients whose due work `due` lists completely (the store was asked about
   *   them); announcements of the others are remembered as they are. Default: every client.
   */
  plan(
    due: readonly DueAction[],
    now: number,
    isOnline: (clientName: string) => boolean,
    catchUp: ReadonlyMap<string, number> = new Map(),
    running: ReadonlySet<number> = new Set(),
    inScope: (clientName: string) => boolean = () => true,
  ): Plan {
    const groups = groupByServer(due);
    this.forgetAllBut(groups, isOnline, inScope);
    // Asked and not picked up yet counts as well as running: between a checkin and rhn_check's
    // queue.get, the database does not show the system busy, and a fast round must not refill it.
    let occupied = running.size;
    for (const serverId of this.asked.keys()) if (!running.has(serverId)) occupied += 1;
    const publications: Publication[] = [];
    let deferred = 0;
    for (const [serverId, actions] of groups) {
      const clientName = (actions[0] as DueAction).clientName;
      if (!isOnline(clientName)) continue;
      const since = catchUp.get(clientName);
      const pending = actions.filter((action) => this.needsAnnouncing(action, now, since));
      if (pending.length === 0) continue;
      if (!this.asked.has(serverId) && !running.has(serverId)) {
        if (this.settings.threshold > 0 && occupied >= this.settings.threshold) {
          deferred += 1;
          continue;
        }
        occupied += 1;
      }
      this.asked.set(serverId, clientName);
      publications.push({ clientName, serverId, actions: pending });
    }
    return { publications, deferred };
  }

  /**
   * Whether planning `due` could take a throttle slot: some system would be asked that is not
   * asked already. Only then does the throttle need the running systems (a query that reads
   * all of rhnServerAction).
   */
  wantsSlot(
    due: readonly DueAction[],
    now: number,
    isOnline: (clientName: string) => boolean,
    catchUp: ReadonlyMap<string, number> = new Map(),
  ): boolean {
    for (const [serverId, actions] of groupByServer(due)) {
      const clientName = (actions[0] as DueAction).clientName;
      if (this.asked.get(serverId) === clientName || !isOnline(clientName)) continue;
      const since = catchUp.get(clientName);
      if (actions.some((action) => this.needsAnnouncing(action, now, since))) return true;
    }
    return false;
  }

  /** Forgets what was announced to these clients (they went offline; a catch-up follows their return). */
  forgetClients(clientNames: readonly string[]): void {
    for (const name of clientNames) {
      for (const key of this.notifiedByClient.get(name) ?? []) this.notified.delete(key);
      this.notifiedByClient.delete(name);
    }
  }

  /**
   * Notes that a publication went out. Returns the actions announced for the first time by
   * this process (for the latency histogram): not the re-announcements, nor announcements
   * again after a rename or a reconnection.
   */
  record(publication: Publication, now: number): DueAction[] {
    const first: DueAction[] = [];
    this.asked.set(publication.serverId, publication.clientName);
    for (const action of publication.actions) {
      if (!this.measured.has(measureKey(action))) first.push(action);
      this.measured.set(measureKey(action), action.clientName);
      this.remember(actionKey(action), { at: now, clientName: action.clientName });
    }
    return first;
  }

  /** When the earliest re-announcement falls due, or undefined when nothing is pending. */
  nextRenotifyAt(): number | undefined {
    let earliest: number | undefined;
    for (const { at } of this.notified.values()) {
      const due = at + this.settings.renotifyMs;
      if (earliest === undefined || due < earliest) earliest = due;
    }
    return earliest;
  }

  /**
   * Makes every remembered announcement fall due again at `at` (after the sockets were
   * re-bound, messages published while clients reconnected may have been lost).
   */
  expedite(at: number): void {
    for (const [key, announced] of this.notified) {
      this.notified.set(key, {
        at: Math.min(announced.at, at - this.settings.renotifyMs),
        clientName: announced.clientName,
      });
    }
  }

  private remember(key: string, announced: Announced): void {
    this.notified.set(key, announced);
    const keys = this.notifiedByClient.get(announced.clientName);
    if (keys === undefined) this.notifiedByClient.set(announced.clientName, new Set([key]));
    else keys.add(key);
  }

  private forget(key: string, announced: Announced): void {
    this.notified.delete(key);
    const keys = this.notifiedByClient.get(announced.clientName);
    keys?.delete(key);
    if (keys?.size === 0) this.notifiedByClient.delete(announced.clientName);
  }

  private needsAnnouncing(
    action: DueAction,
    now: number,
    catchUpSince: number | undefined,
  ): boolean {
    const last = this.notified.get(actionKey(action))?.at;
    if (last === undefined || now - last >= this.settings.renotifyMs) return true;
    return catchUpSince !== undefined && last < catchUpSince;
  }

  private forgetAllBut(
    groups: ReadonlyMap<number, readonly DueAction[]>,
    isOnline: (name: string) => boolean,
    inScope: (name: string) => boolean,
  ): void {
    for (const [serverId, clientName] of this.asked) {
      const actions = groups.get(serverId);
      // Done (nothing due any more), renamed by register_osad, or gone offline: the slot frees.
      if (
        actions === undefined ||
        (actions[0] as DueAction).clientName !== clientName ||
        !isOnline(clientName)
      ) {
        this.asked.delete(serverId);
      }
    }
    const stillDue = new Set<string>();
    for (const actions of groups.values()) {
      for (const action of actions) stillDue.add(actionKey(action));
    }
    for (const [key, announced] of this.notified) {
      if (!stillDue.has(key) && inScope(announced.clientName)) this.forget(key, announced);
    }
    const stillMeasured = new Set<string>();
    for (const actions of groups.values()) {
      for (const action of actions) {
        const key = measureKey(action);
        stillMeasured.add(key);
        if (this.measured.has(key)) this.measured.set(key, action.clientName);
      }
    }
    for (const [key, clientName] of this.measured) {
      if (!stillMeasured.has(key) && inScope(clientName)) this.measured.delete(key);
    }
  }
}

function groupByServer(due: readonly DueAction[]): Map<number, DueAction[]> {
  const groups = new Map<number, DueAction[]>();
  for (const action of due) {
    const group = groups.get(action.serverId);
    if (group === undefined) groups.set(action.serverId, [action]);
    else group.push(action);
  }
  return groups;
}
