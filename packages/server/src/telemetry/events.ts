import type { NotifiedEvent } from "../dispatch/ports.js";
import type { Logger } from "@osad2/service-kit";

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

/** A handler of one event. */
export type ServerEventHandler<E extends ServerEventName> = (payload: ServerEvents[E]) => void;

/**
 * A tiny typed emitter. Unlike node:events there is no special "error" event that throws
 * when nobody handles it, and a handler that throws is logged instead of breaking the server.
 */
export class TypedEmitter {
  private readonly handlers = new Map<ServerEventName, Set<(payload: never) => void>>();

  constructor(private readonly logger: Logger) {}

  on<E extends ServerEventName>(event: E, handler: ServerEventHandler<E>): () => void {
    let set = this.handlers.get(event);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as (payload: never) => void);
    return () => {
      set.delete(handler as (payload: never) => void);
    };
  }

  emit<E extends ServerEventName>(event: E, payload: ServerEvents[E]): void {
    const set = this.handlers.get(event);
    if (set === undefined) return;
    for (const handler of [...set]) {
      try {
        (handler as ServerEventHandler<E>)(payload);
      } catch (error) {
        this.logger.error({ err: error, event }, "server event handler threw");
      }
    }
  }
}
