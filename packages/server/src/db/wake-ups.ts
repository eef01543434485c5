import pg from "pg";
import { translateError } from "./connection.js";
import { DatabaseUnavailableError } from "./errors.js";
import { NOTIFY_CHANNEL, type WakeUpConnectionEvent, type WakeUpHandler } from "./types.js";
import type { DatabaseTarget } from "./url.js";

/** First reconnect delay after the wake-up (LISTEN) connection drops; doubles up to the maximum. */
export const LISTEN_RECONNECT_MIN_MS = 100;
export const LISTEN_RECONNECT_MAX_MS = 5_000;

type PgTarget = Extract<DatabaseTarget, { kind: "postgres" }>;

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to other queries and lose
 * the subscription). When the connection dies (pg_terminate_backend, restart, network) it is
 * reopened with exponential backoff, LISTEN is issued again, and `handler.wakeUp()` is called
 * once so whatever was notified during the gap is picked up by the caller's next query.
 * Resolves after the first attempt whether or not it succeeded; failures keep retrying.
 */
export async function listenForWakeUps(
  target: PgTarget,
  connectionConfig: pg.ClientConfig,
  handler: WakeUpHandler,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = LISTEN_RECONNECT_MIN_MS;
  let firstAttempt = true;

  const emit = (event: WakeUpConnectionEvent): void => {
    try {
      handler.connectionChanged?.(event);
    } catch {
      // A faulty observer must not break reconnection.
    }
  };

  const scheduleReconnect = (cause: unknown): void => {
    if (stopped || timer !== undefined) return;
    const error = translateError(cause, target);
    const unavailable =
      error instanceof DatabaseUnavailableError
        ? error
        : new DatabaseUnavailableError(
            target.display,
            `LISTEN connection failed: ${String(cause)}`,
            { cause },
          );
    const wait = delay + Math.floor(Math.random() * (delay / 2));
    delay = Math.min(delay * 2, LISTEN_RECONNECT_MAX_MS);
    emit({ type: "disconnected", error: unavailable, retryInMs: wait });
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, wait);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    // Any attempt after the first (a reconnect, or a late first success) must catch up.
    const catchUp = !firstAttempt;
    firstAttempt = false;
    const candidate = new pg.Client(connectionConfig);
    client = candidate;
    let failed = false;
    const fail = (cause: unknown): void => {
      if (failed) return;
      failed = true;
      if (client === candidate) client = undefined;
      candidate.removeAllListeners("notification");
      void candidate.end().catch(() => undefined);
      scheduleReconnect(cause);
    };
    // Without these handlers a dropped connection would be an unhandled 'error' event and kill the process.
    candidate.on("error", fail);
    candidate.on("end", () => fail(new Error("Connection terminated")));
    candidate.on("notification", (message) => {
      if (message.channel !== NOTIFY_CHANNEL) return;
      const serverId = Number(message.payload);
      handler.wakeUp(
        message.payload !== undefined && message.payload !== "" && Number.isSafeInteger(serverId)
          ? serverId
          : undefined,
      );
    });
    try {
      await candidate.connect();
      await candidate.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (error) {
      fail(error);
      return;
    }
    if (stopped) {
      await candidate.end().catch(() => undefined);
      return;
    }
    delay = LISTEN_RECONNECT_MIN_MS;
    emit({ type: "listening", reconnected: catchUp });
    // Anything notified while we were not listening is lost: let the caller look now.
    if (catchUp) handler.wakeUp();
  };

  await connect();

  return async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const current = client;
    client = undefined;
    if (current !== undefined) {
      current.removeAllListeners("end");
      current.removeAllListeners("notification");
      await current.end().catch(() => undefined);
    }
  };
}
