import { keyUsagePath, readKeyUsage, writeKeyUsage, type KeyUsage } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";
import type { AuthFailureEvent } from "../telemetry/events.js";
import { ConnectionBook, type ClientIdentity } from "./connection-book.js";
import { startControlSocket, type ControlSocket } from "./control-socket.js";
import type { LiveProxy, LiveState } from "./live-types.js";
import type { ClientSystems, KeyNames } from "./ports.js";

/** Default of {@link DiagnosticsOptions.usageFlushMs}: key-usage.json at most once a minute. */
export const DEFAULT_USAGE_FLUSH_MS = 60_000;

/** What the server tells the diagnostics about itself when asked. */
export interface ServerView {
  settings(): LiveState["settings"];
  managedNames(): readonly string[];
  onlineNames(): Iterable<string>;
  /** Systems asked to check in and not done yet. */
  askedCount(): number;
  /** The osad2 proxies linked now. */
  proxies?(): readonly LiveProxy[];
}

/** Options of {@link Diagnostics.start}. */
export interface DiagnosticsOptions {
  readonly stateDir: string;
  readonly keys: KeyNames;
  readonly systems: ClientSystems;
  readonly server: ServerView;
  readonly logger: Logger;
  /** key-usage.json is rewritten at most this often (and at stop). Default 60 s. */
  readonly usageFlushMs?: number;
}

/**
 * The server's diagnostics: the connection book (fed by ZAP, the authenticator and the
 * server's events), key-usage.json written in batches, and the control socket doctor and
 * systems read.
 */
export class Diagnostics {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly startedAt = new Date().toISOString();

  private constructor(
    private readonly options: DiagnosticsOptions,
    readonly book: ConnectionBook,
    private readonly usagePath: string,
    private socket: ControlSocket | undefined,
  ) {}

  /**
   * Loads key-usage.json and builds the connection book; the control socket waits for
   * {@link listen} (after the ports are bound, so a second server on the same config fails on
   * its ports and leaves the first one's socket alone).
   */
  static async create(options: DiagnosticsOptions): Promise<Diagnostics> {
    const path = keyUsagePath(options.stateDir);
    let usage: Map<string, KeyUsage> = new Map();
    try {
      usage = await readKeyUsage(path);
    } catch (error) {
      // Diagnostics never stop the service: start afresh, the next flush replaces the file.
      options.logger.warn({ err: error, path }, "key usage file unreadable; starting with none");
    }
    const book = new ConnectionBook({ keys: options.keys, systems: options.systems, usage });
    return new Diagnostics(options, book, path, undefined);
  }

  /** Opens the control socket and starts the batched key-usage.json writes. */
  async listen(): Promise<void> {
    this.socket = await startControlSocket({
      stateDir: this.options.stateDir,
      source: this,
      logger: this.options.logger,
    });
    this.timer = setInterval(
      () => void this.flush(),
      this.options.usageFlushMs ?? DEFAULT_USAGE_FLUSH_MS,
    );
    this.timer.unref();
  }

  /** {@link create} then {@link listen}. */
  static async start(options: DiagnosticsOptions): Promise<Diagnostics> {
    const diagnostics = await Diagnostics.create(options);
    await diagnostics.listen();
    return diagnostics;
  }

  /** A refused handshake (the server's auth-failure event). */
  authFailure(event: AuthFailureEvent): void {
    this.book.failed({
      reason: event.reason,
      address: event.address,
      publicKey: event.publicKey ?? null,
      clientName: null,
    });
  }

  identify(clientName: string): Promise<ClientIdentity> {
    return this.book.identify(clientName);
  }

  liveState(): LiveState {
    const server = this.options.server;
    return {
      version: 1,
      pid: process.pid,
      startedAt: this.startedAt,
      now: new Date().toISOString(),
      settings: server.settings(),
      managed: [...server.managedNames()],
      online: [...server.onlineNames()],
      asked: server.askedCount(),
      ...(server.proxies === undefined ? {} : { proxies: server.proxies() }),
      ...this.book.snapshot(),
    };
  }

  /** Writes key-usage.json if it changed (one write at a time). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const usage = this.book.takeUsage();
      if (usage === undefined) return;
      try {
        await writeKeyUsage(this.usagePath, usage);
      } catch (error) {
        this.book.usageNotSaved();
        this.options.logger.warn({ err: error, path: this.usagePath }, "cannot write key usage");
      }
    });
    return this.flushing;
  }

  /** Closes the control socket and writes key-usage.json a last time. Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    await socket?.close();
    // Only a server that got as far as listening writes the file (a failed start leaves it).
    if (socket !== undefined) await this.flush();
  }
}
