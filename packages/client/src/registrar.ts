import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { type FSWatcher, type StatsListener, unwatchFile, watch, watchFile } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { type Logger, backoffDelay, describeError, silentLogger } from "@osad2/service-kit";
import type { RegisterOptions, RegistrationReply } from "./registration.js";
import { type RegistrationTransport, inProcessRegistration } from "./registration-subprocess.js";

/** Default registry_interval: 20 s between attempts after a failure. */
export const DEFAULT_REGISTRY_INTERVAL_MS = 20_000;
/**
 * How often the systemid file is stat()ed besides fs.watch (which misses changes on some file
 * systems and across renames): at the scale of the server's ping interval, never faster.
 */
export const DEFAULT_SYSTEMID_POLL_MS = 10_000;
/** Up to this share of registry_interval is added at random, so a fleet does not retry in step. */
export const REGISTRY_JITTER = 0.5;

export interface RegistrarOptions extends RegisterOptions {
  /** Pause after a failure. Default {@link DEFAULT_REGISTRY_INTERVAL_MS}. */
  readonly retryIntervalMs?: number;
  /** stat() interval of the systemid file. Default {@link DEFAULT_SYSTEMID_POLL_MS}. */
  readonly systemidPollMs?: number;
  /** Default: a silent logger. */
  readonly logger?: Logger;
  /** Default Math.random. */
  readonly random?: () => number;
  /** How the call is made. Default {@link inProcessRegistration}. */
  readonly transport?: RegistrationTransport;
}

export type RegistrarEvents = {
  /** A successful registration; every one rotates the client name. */
  registered: [RegistrationReply];
  /** A failed attempt and when the next one is. */
  failed: [{ error: Error; retryInMs: number }];
};

/**
 * Keeps the system registered: registers at start, retries failures every registry_interval
 * (+ jitter), and registers again when the systemid file's content changes (rhnreg_ks run
 * again) or when asked to (SIGHUP).
 */
export class Registrar extends EventEmitter<RegistrarEvents> {
  private options: RegistrarOptions;
  private readonly log: Logger;
  private retryTimer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private again = false;
  private stopped = true;
  private watcher: FSWatcher | undefined;
  private statListener: StatsListener | undefined;
  private seenHash: string | undefined;
  private current: RegistrationReply | undefined;

  constructor(options: RegistrarOptions) {
    super();
    this.options = options;
    this.log = options.logger ?? silentLogger();
  }

  /** The last successful registration, if any. */
  get registration(): RegistrationReply | undefined {
    return this.current;
  }

  /** Registers now and keeps watching the systemid file until {@link stop}. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.watchSystemId();
    void this.attempt("start");
  }

  /** A new registry_interval (SIGHUP), used from the next failure on; registers nothing. */
  setRetryInterval(retryIntervalMs: number): void {
    this.options = { ...this.options, retryIntervalMs };
  }

  /** Registers again now (registration settings changed); coalesces with one already running. */
  reregister(reason: string): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.attempt(reason);
  }

  /**
   * Treats the last registration as unusable (e.g. no server key anywhere) and tries again
   * after registry_interval, as after a failure.
   */
  retryLater(error: Error): void {
    if (this.stopped) return;
    const retryInMs = this.retryDelay();
    this.log.error({ error: error.message, retryInMs }, "registration unusable; will retry");
    this.emit("failed", { error, retryInMs });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.attempt("retry");
    }, retryInMs);
  }

  /** registry_interval plus up to 50% jitter: the shared back-off held at one interval. */
  private retryDelay(): number {
    const interval = this.options.retryIntervalMs ?? DEFAULT_REGISTRY_INTERVAL_MS;
    return backoffDelay(1, {
      minMs: interval,
      maxMs: interval,
      jitter: REGISTRY_JITTER,
      random: this.options.random ?? Math.random,
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.statListener) unwatchFile(this.options.systemidPath, this.statListener);
    this.statListener = undefined;
  }

  private async attempt(reason: string): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    const { serverUrl } = this.options;
    try {
      this.log.info({ serverUrl, reason }, "registering as push client");
      // Remember what is being registered, so a watch event for this same content is no change.
      this.seenHash = await this.systemIdHash();
      const reply = await (this.options.transport ?? inProcessRegistration).register(this.options);
      if (this.stopped) return;
      this.current = reply;
      this.log.info(
        { clientName: reply.clientName, serverUrl, jabberServer: reply.jabberServer },
        `registered as "${reply.clientName}"`,
      );
      this.emit("registered", reply);
    } catch (error) {
      if (this.stopped) return;
      const err = error instanceof Error ? error : new Error(describeError(error));
      const retryInMs = this.retryDelay();
      this.log.error(
        { serverUrl, error: err.message, errorName: err.name, retryInMs },
        "registration failed; will retry",
      );
      this.emit("failed", { error: err, retryInMs });
      if (!this.again) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.attempt("retry");
        }, retryInMs);
      }
    } finally {
      this.inFlight = false;
      if (this.again && !this.stopped) {
        this.again = false;
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        void this.attempt("changed during registration");
      }
    }
  }

  private async systemIdHash(): Promise<string | undefined> {
    try {
      return createHash("sha256")
        .update(await readFile(this.options.systemidPath))
        .digest("hex");
    } catch {
      return undefined;
    }
  }

  /** fs.watch on the directory (catches rename-replacement) plus a slow stat() poll. */
  private watchSystemId(): void {
    const path = this.options.systemidPath;
    const onMaybeChanged = (): void => void this.checkSystemId();
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file.toString() === basename(path)) onMaybeChanged();
      });
      this.watcher.on("error", (error) => {
        this.log.debug(
          { error: describeError(error) },
          "systemid directory watch ended; stat() polling continues",
        );
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.log.debug(
        { error: describeError(error), path },
        "cannot watch the systemid directory; polling only",
      );
    }
    this.statListener = (current, previous) => {
      if (
        current.mtimeMs !== previous.mtimeMs ||
        current.size !== previous.size ||
        current.ino !== previous.ino
      ) {
        onMaybeChanged();
      }
    };
    watchFile(
      path,
      { interval: this.options.systemidPollMs ?? DEFAULT_SYSTEMID_POLL_MS, persistent: false },
      this.statListener,
    );
  }

  private async checkSystemId(): Promise<void> {
    if (this.stopped) return;
    const hash = await this.systemIdHash();
    if (hash === undefined || hash === this.seenHash || this.stopped) return;
    this.seenHash = hash;
    this.log.info({ systemid: this.options.systemidPath }, "systemid changed; registering again");
    this.reregister("systemid changed");
  }
}
