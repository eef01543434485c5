import {
  TOPIC_CHALLENGE,
  TOPIC_PING,
  TOPIC_REFUSED,
  TOPIC_SYSTEM_PREFIX,
  TOPIC_UNKNOWN_CLIENT,
} from "./constants.js";
import { decodePublisherMessage, type PublisherMessage } from "./publisher.js";
import { ProtocolError } from "./errors.js";
import { type Frames, singleTextFrame, splitTopic, textFrame } from "./frames.js";
import { assertNonce } from "./signature.js";
import { assertClientName } from "./validate.js";

/** Why the server refused a client message it can fix by itself. */
export type RefusalReason =
  /** An unsigned (seed-format) message; this server needs signed ones: ask for a challenge. */
  | "unsigned"
  /** The hello's challenge expired or was never issued: ask for a new one. */
  | "stale-nonce"
  /**
   * The server could not check the hello now (its database is slow or failing): ask for a
   * new challenge after a few seconds, with jitter. Older clients ignore it (unknown reply).
   */
  | "busy";

const REFUSAL_REASONS: readonly RefusalReason[] = ["unsigned", "stale-nonce", "busy"];

/** What the server sends a client over the ROUTER (to the routing id the client's message came from). */
export type ServerReply =
  /** `challenge <nonce>` (v2) or `challenge 3 <nonce>` (v3: answer with a v3 hello). */
  | { readonly kind: "challenge"; readonly nonce: string; readonly version?: 3 }
  | { readonly kind: "unknown-client"; readonly clientName: string }
  | { readonly kind: "refused"; readonly reason: RefusalReason };

export function encodeChallenge(nonce: string, version?: 3): Buffer {
  const v = version === undefined ? "" : `${version} `;
  return textFrame(`${TOPIC_CHALLENGE} ${v}${assertNonce(nonce)}`);
}

export function encodeUnknownClient(clientName: string): Buffer {
  return textFrame(`${TOPIC_UNKNOWN_CLIENT} ${assertClientName(clientName)}`);
}

export function encodeRefused(reason: RefusalReason): Buffer {
  return textFrame(`${TOPIC_REFUSED} ${reason}`);
}

export function encodeServerReply(reply: ServerReply): Buffer {
  if (reply.kind === "challenge") return encodeChallenge(reply.nonce, reply.version);
  if (reply.kind === "unknown-client") return encodeUnknownClient(reply.clientName);
  return encodeRefused(reply.reason);
}

/** Decodes one message a client's DEALER received from the server; throws ProtocolError. */
export function decodeServerReply(frames: Frames): ServerReply {
  const { topic, payload } = splitTopic(singleTextFrame(frames));
  if (topic === TOPIC_CHALLENGE) {
    if (payload.startsWith("3 ")) {
      return { kind: "challenge", nonce: assertNonce(payload.slice(2)), version: 3 };
    }
    return { kind: "challenge", nonce: assertNonce(payload) };
  }
  if (topic === TOPIC_UNKNOWN_CLIENT)
    return { kind: "unknown-client", clientName: assertClientName(payload) };
  if (topic === TOPIC_REFUSED) {
    const reason = REFUSAL_REASONS.find((r) => r === payload);
    if (reason === undefined)
      throw new ProtocolError(
        "bad-reply",
        `unknown refusal ${JSON.stringify(payload.slice(0, 40))}`,
      );
    return { kind: "refused", reason };
  }
  throw new ProtocolError("unknown-topic", `unknown topic ${JSON.stringify(topic.slice(0, 80))}`);
}

/** What an osad2 client's single (v3) connection receives: replies, pings and its checkins. */
export type ConnectionMessage = ServerReply | PublisherMessage;

/** Decodes one message a v3 client's DEALER received; throws ProtocolError. */
export function decodeConnectionMessage(frames: Frames): ConnectionMessage {
  const text = singleTextFrame(frames);
  const { topic } = splitTopic(text);
  if (topic === TOPIC_PING || topic.startsWith(TOPIC_SYSTEM_PREFIX)) {
    return decodePublisherMessage(frames);
  }
  return decodeServerReply(frames);
}
