import {
  decodeListenerMessage,
  isValidClientName,
  ProtocolError,
  type ClientHello,
} from "@osad2/protocol";
import type { Logger } from "../logger.js";

/** What the ROUTER loop hands on; none of these may throw. */
export interface ListenerHandlers {
  /** A client echoed `ping <token>`. */
  onPong(clientName: string, token: string): void;
  /** A client announced itself after (re)connecting (osad2 extension). */
  onHello(clientName: string, hello: ClientHello): void;
  /** A message was dropped: undecodable, or its routing id is not a client name. */
  onMalformed(reason: string, routingId: string | undefined): void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function routingIdText(frame: Buffer): string | undefined {
  try {
    const text = utf8.decode(frame);
    return isValidClientName(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the ROUTER until the socket closes. Each message is [routing id = client name, frame];
 * anything else is counted and dropped, so one broken or hostile client never disturbs the rest.
 */
export async function runListener(
  messages: AsyncIterable<Buffer[]>,
  handlers: ListenerHandlers,
  logger: Logger,
): Promise<void> {
  try {
    for await (const [routingId, ...frames] of messages) {
      handleMessage(routingId, frames, handlers, logger);
    }
  } catch (error) {
    // The iterator only throws when the socket goes away under it (close during receive).
    logger.debug({ err: error }, "listener loop ended");
  }
}

function handleMessage(
  routingId: Buffer | undefined,
  frames: Buffer[],
  handlers: ListenerHandlers,
  logger: Logger,
): void {
  const clientName = routingId === undefined ? undefined : routingIdText(routingId);
  if (clientName === undefined) {
    handlers.onMalformed("bad-routing-id", routingId?.toString("hex").slice(0, 64));
    return;
  }
  let message;
  try {
    message = decodeListenerMessage(frames);
  } catch (error) {
    handlers.onMalformed(error instanceof ProtocolError ? error.reason : "undecodable", clientName);
    return;
  }
  try {
    if (message.kind === "pong") {
      handlers.onPong(clientName, message.token);
    } else if (message.hello.clientName !== clientName) {
      handlers.onMalformed("hello-name-mismatch", clientName);
    } else {
      handlers.onHello(clientName, message.hello);
    }
  } catch (error) {
    logger.error({ err: error, clientName }, "listener handler failed");
  }
}
