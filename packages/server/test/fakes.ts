// Fakes of the parts' interfaces, for unit tests of dispatch, presence and the ROUTER loop:
// no sockets, no database. Time is vitest's fake clock (vi.useFakeTimers) wherever used.
import { Writable } from "node:stream";
import pino from "pino";
import type { PublisherMessage } from "@osad2/protocol";
import { silentLogger, type Logger } from "@osad2/service-kit";
import type { DueAction, DueActionsOptions, PushClient } from "../src/db/types.js";
import { Notifier, type NotifierSettings } from "../src/dispatch/notifier.js";
import type {
  DispatchReport,
  DispatchStore,
  FirstAnnouncement,
  NotifiedEvent,
  RoundSummary,
} from "../src/dispatch/ports.js";
import { OnlineClients } from "../src/presence/online-clients.js";
import type {
  ManagedClientsFile,
  ManagedClientsStore,
  PresenceReport,
  PresenceSink,
  PresenceStore,
} from "../src/presence/ports.js";
import type { ClientSender } from "../src/transport/ports.js";

/** Records what was published, decoded, with the (fake) time. */
export class FakePublisher implements ClientSender {
  readonly sent: { at: number; message: PublisherMessage }[] = [];

  async ping(token: string): Promise<void> {
    this.sent.push({ at: Date.now(), message: { kind: "ping", token } });
  }

  async checkin(clientName: string): Promise<void> {
    this.sent.push({ at: Date.now(), message: { kind: "checkin", clientName } });
  }

  /** Client names of the checkins published so far, in order. */
  get checkins(): string[] {
    return this.sent.flatMap((s) => (s.message.kind === "checkin" ? [s.message.clientName] : []));
  }

  get pings(): number {
    return this.sent.filter((s) => s.message.kind === "ping").length;
  }
}

/** A due-work list the test edits; `failures` makes the next rounds reject. */
export class FakeDispatchStore implements DispatchStore {
  due: DueAction[] = [];
  nextEarliest: Date | null = null;
  /** Systems with a picked-up (status 1) action, whatever `due` holds. */
  readonly running = new Set<number>();
  readonly clients = new Map<string, PushClient>();
  failures = 0;
  rounds = 0;

  /** The `clients` of each dueActions call (undefined = all), in order. */
  readonly askedAbout: (readonly string[] | undefined)[] = [];
  runningCalls = 0;

  async dueActions(now: Date, options: DueActionsOptions) {
    this.rounds += 1;
    this.askedAbout.push(options.clients);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error("database away");
    }
    return this.due.filter(
      (d) =>
        d.earliestAction <= now &&
        (options.includePickedUp || d.status === 0) &&
        (options.clients === undefined || options.clients.includes(d.clientName)),
    );
  }

  async nextEarliestAction(now: Date) {
    return this.nextEarliest !== null && this.nextEarliest > now ? this.nextEarliest : null;
  }

  async findClient(name: string) {
    return this.clients.get(name);
  }

  async runningSystems() {
    this.runningCalls += 1;
    return [...this.running];
  }
}

/** One queued action of a system whose push client is `clientName` (default `c<serverId>`). */
export function dueAction(
  serverId: number,
  actionId: number,
  clientName = `c${serverId}`,
): DueAction {
  return {
    serverId,
    actionId,
    clientName,
    status: 0,
    earliestAction: new Date(0),
    created: new Date(0),
    actionType: "packages.update",
  };
}

export class FakeDispatchReport implements DispatchReport {
  readonly events: NotifiedEvent[] = [];
  /** Per publication: the action ids announced for the first time. */
  readonly firstTime: number[][] = [];
  readonly failures: unknown[] = [];

  /** Each round's summary, in order. */
  readonly rounds: RoundSummary[] = [];

  published(event: NotifiedEvent, firstTime: readonly FirstAnnouncement[]): void {
    this.events.push(event);
    this.firstTime.push(firstTime.map((first) => first.action.actionId));
  }

  roundCompleted(summary: RoundSummary): void {
    this.rounds.push(summary);
  }

  roundFailed(error: unknown): void {
    this.failures.push(error);
  }
}

interface Row {
  state: "online" | "offline";
  lastMessageTime: Date | null;
  lastPingTime: Date | null;
  nextActionTime: Date | null;
}

/** rhnPushClient in memory, with the semantics of the real store's presence calls. */
export class FakePresenceStore implements PresenceStore, ManagedClientsStore {
  readonly rows = new Map<string, Row>();
  /** Names of the markOnline calls, in order. */
  readonly writes: string[] = [];
  /** The names of each refreshMessageTimes call (one statement each). */
  readonly refreshes: string[][] = [];
  /** The names of each markOffline call. */
  readonly offlineWrites: string[][] = [];
  /** Names of the setPingDeadline calls. */
  readonly deadlineWrites: string[] = [];

  add(name: string, state: "online" | "offline"): void {
    this.rows.set(name, { state, lastMessageTime: null, lastPingTime: null, nextActionTime: null });
  }

  /** What Spacewalk's system.sendOsaPing does. */
  requestPing(name: string): void {
    const row = this.row(name);
    row.lastPingTime = new Date();
    row.nextActionTime = null;
  }

  row(name: string): Row {
    const row = this.rows.get(name);
    if (row === undefined) throw new Error(`no row ${name}`);
    return row;
  }

  async markOnline(name: string, at: Date): Promise<boolean> {
    this.writes.push(name);
    const row = this.rows.get(name);
    if (row === undefined) return false;
    const wasOffline = row.state === "offline";
    Object.assign(row, {
      state: "online",
      lastMessageTime: at,
      lastPingTime: null,
      nextActionTime: null,
    });
    return wasOffline;
  }

  /** One markOnline per name (tests replace markOnline to watch or fail the writes). */
  async markManyOnline(names: readonly string[], at: Date): Promise<string[]> {
    const wasOffline: string[] = [];
    for (const name of names) if (await this.markOnline(name, at)) wasOffline.push(name);
    return wasOffline;
  }

  async markOffline(names: readonly string[]): Promise<void> {
    this.offlineWrites.push([...names]);
    for (const name of names) {
      const row = this.rows.get(name);
      if (row !== undefined && row.state !== "offline") {
        Object.assign(row, { state: "offline", lastPingTime: null, nextActionTime: null });
      }
    }
  }

  async refreshMessageTimes(names: readonly string[], at: Date): Promise<number> {
    this.refreshes.push([...names]);
    let updated = 0;
    for (const name of names) {
      const row = this.rows.get(name);
      if (row === undefined) continue;
      row.lastMessageTime = at;
      updated += 1;
    }
    return updated;
  }

  async existingClientNames(names: readonly string[]): Promise<string[]> {
    return names.filter((name) => this.rows.has(name));
  }

  /** Every write to a row, of any kind: what "never touched" is checked against. */
  touched(name: string): boolean {
    return (
      this.writes.includes(name) ||
      this.deadlineWrites.includes(name) ||
      this.refreshes.some((names) => names.includes(name)) ||
      this.offlineWrites.some((names) => names.includes(name))
    );
  }

  async onlineClientNames(): Promise<string[]> {
    return this.names((row) => row.state === "online");
  }

  async requestedPings(): Promise<string[]> {
    return this.names(
      (row) => row.state === "online" && row.lastPingTime !== null && row.nextActionTime === null,
    );
  }

  async setPingDeadline(name: string, deadline: Date): Promise<void> {
    this.deadlineWrites.push(name);
    this.row(name).nextActionTime = deadline;
  }

  async expiredPingDeadlines(now: Date): Promise<string[]> {
    return this.names(
      (row) =>
        row.state === "online" &&
        row.lastPingTime !== null &&
        row.nextActionTime !== null &&
        row.nextActionTime < now,
    );
  }

  private names(keep: (row: Row) => boolean): string[] {
    return [...this.rows].filter(([, row]) => keep(row)).map(([name]) => name);
  }
}

/** The managed-clients file in memory; `failures` makes the next saves reject. */
export class MemoryManagedFile implements ManagedClientsFile {
  readonly path = "/fake/managed-clients.json";
  saved: string[] | undefined;
  saves = 0;
  failures = 0;

  constructor(private readonly initial: readonly string[] = []) {}

  async load(): Promise<string[]> {
    return [...(this.saved ?? this.initial)];
  }

  async save(names: readonly string[]): Promise<void> {
    // Like a real write, it completes later than it was asked for (not on the faked clock).
    for (let i = 0; i < 3; i++) await Promise.resolve();
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error("disk full");
    }
    this.saves += 1;
    this.saved = [...names];
  }
}

/** Records what presence tells the dispatcher. */
export class FakePresenceSink implements PresenceSink {
  readonly contacts: [string, "hello" | "pong"][] = [];
  readonly onlines: [string, boolean][] = [];
  readonly offlines: string[][] = [];

  contact(clientName: string, kind: "hello" | "pong"): void {
    this.contacts.push([clientName, kind]);
  }

  online(clientName: string, wasOffline: boolean): void {
    this.onlines.push([clientName, wasOffline]);
  }

  offline(clientNames: readonly string[]): void {
    this.offlines.push([...clientNames]);
  }
}

export class FakePresenceReport implements PresenceReport {
  readonly cameOnlines: string[] = [];
  readonly wentOfflines: string[] = [];
  readonly failures: unknown[] = [];

  cameOnline(clientName: string): void {
    this.cameOnlines.push(clientName);
  }

  wentOffline(clientNames: readonly string[]): void {
    this.wentOfflines.push(...clientNames);
  }

  presenceFailed(error: unknown): void {
    this.failures.push(error);
  }
}

/** A real pino logger whose lines are kept as parsed JSON (level 50 = error). */
export function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

/**
 * A Notifier wired to fakes of every interface (store, publisher, presence's online set,
 * report): no sockets, no database. `reachable(name)` makes a client online and proves its
 * subscription with a pong. Defaults: renotify 60 s, no throttle, poll 5 s, hello grace 250 ms.
 */
export function fakeNotifier(settings: Partial<NotifierSettings> = {}) {
  const store = new FakeDispatchStore();
  const publisher = new FakePublisher();
  const online = new OnlineClients();
  const report = new FakeDispatchReport();
  const notifier = new Notifier({
    renotifyMs: 60_000,
    threshold: 0,
    pollIntervalMs: 5_000,
    includePickedUp: false,
    helloGraceMs: 250,
    ...settings,
    store,
    publisher,
    online,
    report,
    logger: silentLogger(),
  });
  const reachable = (name: string): void => {
    online.add(name);
    notifier.contact(name, "pong");
  };
  return { store, publisher, online, report, notifier, reachable };
}
