/**
 * Errors thrown by the osad2 server library (the database layer has its own in
 * db/errors.ts and registration/errors.ts; configuration errors are @osad2/service-kit's
 * ConfigError; index.ts re-exports all of them). Every class sets `name`, accepts
 * `{ cause }` where it wraps one, and carries the fields a caller branches on.
 */
import { BindError } from "@osad2/service-kit";

/** ZeroMQ could not bind a socket (port in use, address not on this host, no permission). */
export class SocketBindError extends BindError {
  override readonly name = "SocketBindError";
}

// Shared with the client and the proxy: one class, so `instanceof` holds whichever re-exports it.
export { CurveUnavailableError } from "@osad2/service-kit/zeromq";

/** notify() was asked about a push client that does not exist. */
export class UnknownClientError extends Error {
  override readonly name = "UnknownClientError";
  readonly clientName: string;

  constructor(clientName: string) {
    super(
      `no push client named ${JSON.stringify(clientName)} in rhnPushClient (has the system run register_osad?)`,
    );
    this.clientName = clientName;
  }
}

/** A lifecycle call came at the wrong time (start twice, notify after stop, …). */
export class ServerStateError extends Error {
  override readonly name = "ServerStateError";
  readonly state: string;

  constructor(state: string, action: string) {
    super(`cannot ${action}: the server is ${state}`);
    this.state = state;
  }
}
