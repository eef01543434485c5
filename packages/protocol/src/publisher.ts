import { COMMAND_CHECKIN, TOPIC_PING, TOPIC_SYSTEM_PREFIX } from "./constants.js";
import { ProtocolError } from "./errors.js";
import { type Frames, singleTextFrame, splitTopic, textFrame } from "./frames.js";
import { assertClientName, assertToken } from "./validate.js";

/** Messages the server publishes on its PUB socket (the seed's format). */
export type PublisherMessage =
  | { readonly kind: "ping"; readonly token: string }
  | { readonly kind: "checkin"; readonly clientName: string };

/** `system:<name>`: the topic of one client. */
export function systemTopic(clientName: string): string {
  return TOPIC_SYSTEM_PREFIX + assertClientName(clientName);
}

/**
 * What a client subscribes to. The trailing space makes ZeroMQ's prefix match exact:
 * `system:ab ` never matches `system:abc checkin`.
 */
export function clientSubscriptions(clientName: string): string[] {
  return [`${systemTopic(clientName)} `, `${TOPIC_PING} `];
}

export function encodePing(token: string): Buffer {
  return textFrame(`${TOPIC_PING} ${assertToken(token)}`);
}

export function encodeCheckin(clientName: string): Buffer {
  return textFrame(`${systemTopic(clientName)} ${COMMAND_CHECKIN}`);
}

export function encodePublisherMessage(message: PublisherMessage): Buffer {
  return message.kind === "ping" ? encodePing(message.token) : encodeCheckin(message.clientName);
}

/** Decodes one PUB message; throws ProtocolError for anything else. */
export function decodePublisherMessage(frames: Frames): PublisherMessage {
  const { topic, payload } = splitTopic(singleTextFrame(frames));
  if (topic === TOPIC_PING) {
    return { kind: "ping", token: assertToken(payload) };
  }
  if (topic.startsWith(TOPIC_SYSTEM_PREFIX)) {
    const clientName = assertClientName(topic.slice(TOPIC_SYSTEM_PREFIX.length));
    if (payload !== COMMAND_CHECKIN) {
      throw new ProtocolError(
        "unknown-command",
        `unknown command ${JSON.stringify(payload.slice(0, 80))}`,
      );
    }
    return { kind: "checkin", clientName };
  }
  throw new ProtocolError("unknown-topic", `unknown topic ${JSON.stringify(topic.slice(0, 80))}`);
}

/** True only for a checkin whose topic is exactly this client's (prefix matches do not count). */
export function isCheckinFor(message: PublisherMessage, clientName: string): boolean {
  return message.kind === "checkin" && message.clientName === clientName;
}
