import type { KeyStoreChange } from "@osad2/keys";
import type { Logger } from "@osad2/service-kit";

/** Default of {@link RevocationOptions.debounceMs}. */
export const DEFAULT_REVOCATION_DEBOUNCE_MS = 200;
/** After a re-bind, what was announced before is announced again this much later (clients are back by then). */
export const REANNOUNCE_AFTER_REBIND_MS = 3_000;

/** The sockets: cut every connection and accept new ones on the same endpoints. */
export interface Rebindable {
  rebind(): Promise<void>;
}

/** The dispatcher: re-announce everything remembered after a delay. */
export interface Reannouncer {
  /** Every connection was cut: address nobody until it reconnects, then catch it up. */
  connectionsReplaced(): void;
  expedite(delayMs: number): void;
}

/** Key store changes (the key store's watch()). */
export interface KeyChanges {
  watch(handler: (change: KeyStoreChange) => void): () => void;
}

/** Options of {@link RevocationRebind}. */
export interface RevocationOptions {
  readonly sockets: Rebindable;
  readonly dispatch: Reannouncer;
  readonly logger: Logger;
  /** Key removals within this window share one re-bind. Default {@link DEFAULT_REVOCATION_DEBOUNCE_MS}. */
  readonly debounceMs?: number;
}

/**
 * Cuts a revoked client off. ZAP only runs at handshake, and libzmq cannot drop one peer of a
 * bound socket, so when a key leaves public_keys/ (revoked, deleted, replaced) both sockets
 * are re-bound: every connection is cut, every client reconnects within its reconnect interval
 * (1-2 s) and passes ZAP again, and the revoked one is refused. Revocations are rare operator
 * actions, so one reconnect wave per (debounced) revocation is cheap next to a client that
 * keeps receiving. Anything published during the wave is re-announced, and reconnecting osad2
 * clients get a catch-up through their hello.
 */
export class RevocationRebind {
  private timer: NodeJS.Timeout | undefined;
  private rebinding: Promise<void> = Promise.resolve();
  private unwatch: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: RevocationOptions) {}

  /** Re-binds whenever a key is removed from `keys`. */
  follow(keys: KeyChanges): void {
    this.unwatch = keys.watch((change) => {
      if (change.type === "removed") this.keyRemoved(change.key.name);
    });
  }

  keyRemoved(name: string): void {
    if (this.stopped) return;
    this.options.logger.info(
      { key: name },
      "client key removed from the allow-list; cutting connections",
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.rebind(),
      this.options.debounceMs ?? DEFAULT_REVOCATION_DEBOUNCE_MS,
    );
  }

  /** Stops following the key store; resolves once a re-bind in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    clearTimeout(this.timer);
    await this.rebinding;
  }

  private rebind(): void {
    if (this.stopped) return;
    const { sockets, dispatch, logger } = this.options;
    this.rebinding = this.rebinding
      .then(() => sockets.rebind())
      .then(() => {
        dispatch.connectionsReplaced();
        dispatch.expedite(REANNOUNCE_AFTER_REBIND_MS);
        logger.info("sockets re-bound; clients re-authenticate through ZAP");
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, "re-binding after a key revocation failed");
      });
  }
}
