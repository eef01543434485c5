import type { NotifiedEvent } from "./notifier.js";
import type { Logger } from "./logger.js";

/** A client handshake the server refused. */
export interface AuthFailureEvent {
  /** The peer's IP address (ZAP), or the server endpoint when libzmq does not tell the peer. */
  readonly address: string;
  /** The client's public key (Z85) when it got as far as offering one. */
  readonly publicKey?: string;
  readonly reason:
    "unknown-key" | "wrong-domain" | "wrong-mechanism" | "malformed-request" | "handshake";
}

/** A database operation failed; the server keeps running and retries. */
export interface DbErrorEvent {
  readonly error: Error;
  /** What was being done: "poll", "presence", "listen", "prepare". */
  readonly operation: string;
}

/** Everything a server reports, by event name. */
export interface ServerEvents {
  /** A `system:<name> checkin` went out. */
  readonly notified: NotifiedEvent;
  /** A client went from offline to online in rhnPushClient. */
  readonly online: { readonly clientName: string };
  /** A client went offline (missed pings or a web-UI ping deadline). */
  readonly offline: { readonly clientName: string };
  readonly "auth-failure": AuthFailureEvent;
  readonly "db-error": DbErrorEvent;
}

/** Event names of {@link ServerEvents}. */
export type ServerEventName = keyof ServerEvents;

/** A listener of one event. */
export type ServerEventListener<E extends ServerEventName> = (payload: ServerEvents[E]) => void;

/**
 * A tiny typed emitter. Unlike node:events there is no special "error" event that throws
 * when nobody listens, and a listener that throws is logged instead of breaking the server.
 */
export class TypedEmitter {
  private readonly listeners = new Map<ServerEventName, Set<(payload: never) => void>>();

  constructor(private readonly logger: Logger) {}

  on<E extends ServerEventName>(event: E, listener: ServerEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  emit<E extends ServerEventName>(event: E, payload: ServerEvents[E]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as ServerEventListener<E>)(payload);
      } catch (error) {
        this.logger.error({ err: error, event }, "server event listener threw");
      }
    }
  }
}
