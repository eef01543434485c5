import type { Socket } from "zeromq";
import { BindError } from "../errors.js";

/** Between bind attempts while libzmq frees a just-closed socket's descriptor. */
const BIND_RETRY_MS = 25;
/** How long a re-bind keeps trying before the error is the caller's. */
const BIND_RETRY_LIMIT_MS = 3_000;

/** A package's own bind error class (a {@link BindError}), so callers keep their typed error. */
export type BindErrorClass = new (
  endpoint: string,
  detail: string,
  options?: { cause?: unknown },
) => BindError;

/** How a program explains a failed bind. */
export interface BindOptions {
  /** Who else may hold the port, for EADDRINUSE: `"another osad2-server"`. */
  readonly inUseBy: string;
  /** Thrown on failure. */
  readonly errorClass: BindErrorClass;
}

/**
 * Binds once; resolves with the endpoint actually bound (tcp://0.0.0.0:5555, or the real port
 * when 0 was asked). A failure is thrown as `options.errorClass` with what to do about it.
 */
export async function bindOnce(
  socket: Socket,
  endpoint: string,
  options: BindOptions,
): Promise<string> {
  try {
    await socket.bind(endpoint);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const detail =
      code === "EADDRINUSE"
        ? `address already in use (${options.inUseBy}, or change the port)`
        : code === "EADDRNOTAVAIL"
          ? "address not available on this host (check bind)"
          : code === "EACCES"
            ? "permission denied (ports below 1024 need privileges)"
            : ((cause as Error).message ?? String(cause));
    throw new options.errorClass(endpoint, detail, { cause });
  }
  return socket.lastEndpoint ?? endpoint;
}

/**
 * Binds a new socket where a closed one was: close() returns before libzmq's reaper has closed
 * the old socket's listening descriptor, so a bind error is retried for a few seconds.
 */
export async function bindWithRetry(
  socket: Socket,
  endpoint: string,
  options: BindOptions,
): Promise<string> {
  const deadline = Date.now() + BIND_RETRY_LIMIT_MS;
  for (;;) {
    try {
      return await bindOnce(socket, endpoint, options);
    } catch (error) {
      if (!(error instanceof BindError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS));
    }
  }
}
