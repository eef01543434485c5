/**
 * Errors of the osad2 proxy library (configuration errors are @osad2/service-kit's
 * ConfigError). Every class sets `name` and accepts `{ cause }` where it wraps one.
 */
import { BindError } from "@osad2/service-kit";

/** A key file under `certificates` is missing, unreadable or wrong. */
export class ProxyKeyError extends Error {
  override readonly name = "ProxyKeyError";
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/** ZeroMQ could not bind a port (in use, address not on this host, no permission). */
export class ProxyBindError extends BindError {
  override readonly name = "ProxyBindError";
}

// The one class the server and client also throw: the proxy refuses to run unencrypted.
export { CurveUnavailableError } from "@osad2/service-kit/zeromq";

/** A lifecycle call came at the wrong time (start twice, start after stop). */
export class ProxyStateError extends Error {
  override readonly name = "ProxyStateError";

  constructor(state: string, action: string) {
    super(`cannot ${action}: the proxy is ${state}`);
  }
}
