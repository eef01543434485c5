import { type Logger, describeError } from "@osad2/service-kit";
import type { RoleLock } from "./role-lock.js";

/** `active`: holds the notifying role (sockets bound, presence and notifier running). */
export type ServerRole = "active" | "standby";

/**
 * What holding the notifying role switches on and off: the client-facing sockets (PUB,
 * ROUTER and any other port clients or proxies connect to), presence and the notifier.
 * The server implements it; every socket clients connect to belongs in it, so that only the
 * holder is reachable.
 */
export interface NotifyingRole {
  /** Binds the sockets and starts presence and the notifier (catching up on due work). */
  becomeActive(): Promise<void>;
  /** Stops notifying and unbinds at once (clients then fail over to the new holder). */
  becomeStandby(reason: string): Promise<void>;
}

/** Told of every change of role (metrics; the logs are the coordinator's). */
export interface RoleReport {
  roleChanged(role: ServerRole): void;
}

/** Whether this process may send a checkin now (see {@link RoleCoordinator.mayNotify}). */
export interface NotifyingLease {
  mayNotify(): boolean;
}

/** Default of {@link RoleCoordinatorOptions.pollMs}: a standby's attempt, a holder's check. */
export const DEFAULT_ROLE_POLL_MS = 1_000;

export interface RoleCoordinatorOptions {
  readonly lock: RoleLock;
  readonly role: NotifyingRole;
  readonly report: RoleReport;
  readonly logger: Logger;
  /** Default {@link DEFAULT_ROLE_POLL_MS}. */
  readonly pollMs?: number;
  /**
   * How long after its last confirmed lock check the holder still sends checkins. Must be
   * below the time PostgreSQL takes to drop a vanished holder's session (LOCK_SESSION_SETTINGS:
   * ≥ 5 s); default pollMs + the lock query timeout (2 s), i.e. 3 s.
   */
  readonly fenceMs?: number;
}

/**
 * Holds or waits for the notifying role. A standby tries the lock every pollMs (serving
 * register_osad meanwhile); the holder checks it is still held every pollMs and, the moment a
 * check fails or the lock connection is lost, stops notifying and unbinds. Between checks
 * the lease bounds the risk: a checkin is withheld once the last confirmed check is older
 * than fenceMs (a holder whose event loop stalled past that must not notify on stale belief).
 */
export class RoleCoordinator implements NotifyingLease {
  private current: ServerRole = "standby";
  private confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastError: string | undefined;
  /** Set the moment the lock connection is seen gone; fences at once, handled by the next step. */
  private lost: string | undefined;
  private readonly pollMs: number;
  private readonly fenceMs: number;

  constructor(private readonly options: RoleCoordinatorOptions) {
    this.pollMs = options.pollMs ?? DEFAULT_ROLE_POLL_MS;
    this.fenceMs = options.fenceMs ?? this.pollMs + 2_000;
    options.lock.onLost((reason) => {
      if (this.current !== "active" || this.stopped) return;
      this.lost = reason;
      this.options.logger.warn({ reason }, "the notifying role's lock connection is gone: fenced");
      this.schedule(0);
    });
  }

  get role(): ServerRole {
    return this.current;
  }

  mayNotify(): boolean {
    return (
      this.current === "active" &&
      this.lost === undefined &&
      Date.now() - this.confirmedAt <= this.fenceMs
    );
  }

  /** Tries once (so a lone server is active when start resolves), then keeps polling. */
  async start(): Promise<void> {
    this.options.report.roleChanged("standby");
    await this.step();
    if (this.current === "standby") {
      this.options.logger.info(
        { lock: this.options.lock.description, pollMs: this.pollMs },
        "standby: another osad2-server holds the notifying role; serving register_osad and trying the lock",
      );
    }
    this.schedule();
  }

  /** Stops polling; the caller stops notifying first, then this releases the lock (hand-over). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick;
    await this.options.lock.release();
  }

  /** One pending step at a time, each after the one before. */
  private schedule(delayMs: number = this.pollMs): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick = this.tick
        .then(() => this.step())
        .finally(() => {
          if (this.timer === undefined) this.schedule();
        });
    }, delayMs);
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    if (this.current === "active") await this.check();
    else await this.attempt();
  }

  private async attempt(): Promise<void> {
    const { lock, role, logger } = this.options;
    let acquired: boolean;
    try {
      acquired = await lock.tryAcquire();
      this.lastError = undefined;
    } catch (error) {
      const message = describeError(error);
      if (message !== this.lastError) {
        logger.warn(
          { lock: lock.description, error: message },
          "cannot try the notifying role's lock; retrying",
        );
      }
      this.lastError = message;
      await lock.release();
      return;
    }
    if (!acquired || this.stopped) return;
    this.confirmedAt = Date.now();
    this.current = "active";
    try {
      await role.becomeActive();
    } catch (error) {
      this.current = "standby";
      logger.error(
        { err: error },
        "holding the notifying role but could not bind or start notifying; releasing it for another server",
      );
      await role.becomeStandby("start failed").catch(() => undefined);
      await lock.release();
      return;
    }
    this.options.report.roleChanged("active");
    logger.info({ lock: lock.description }, "became active: holding the notifying role");
  }

  private async check(): Promise<void> {
    const { lock } = this.options;
    let reason = this.lost;
    if (reason !== undefined) return this.stepDown(reason);
    try {
      if (await lock.verify()) {
        this.confirmedAt = Date.now();
        return;
      }
      reason = "the lock is no longer held";
    } catch (error) {
      reason = `the lock connection failed: ${describeError(error)}`;
    }
    await this.stepDown(reason);
  }

  private async stepDown(reason: string): Promise<void> {
    const { lock, role, logger } = this.options;
    this.current = "standby";
    this.lost = undefined;
    logger.warn({ reason }, "lost the notifying role: stopping notifying and unbinding");
    try {
      await role.becomeStandby(reason);
    } catch (error) {
      logger.error({ err: error }, "error while giving up the notifying role");
    }
    await lock.release();
    this.options.report.roleChanged("standby");
    logger.info("standby: trying the notifying role's lock again");
  }
}

/** The role of a server that needs no coordination (SQLite: one server only). */
export class SoleServer implements NotifyingLease {
  readonly role: ServerRole = "active";
  mayNotify(): boolean {
    return true;
  }
}
