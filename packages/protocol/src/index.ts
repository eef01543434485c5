export { ProtocolError } from "./errors.js";
export {
  PROTOCOL_VERSION,
  SIGNED_HELLO_VERSION,
  CONNECTION_VERSION,
  UNSIGNED_HELLO_VERSION,
  DEFAULT_PUBLISHER_PORT,
  DEFAULT_LISTENER_PORT,
  DEFAULT_XMLRPC_PORT,
  MAX_MESSAGE_BYTES,
  MAX_CLIENT_NAME_LENGTH,
  MAX_TOKEN_LENGTH,
  TOPIC_PING,
  TOPIC_SYSTEM_PREFIX,
  TOPIC_HELLO,
  COMMAND_CHECKIN,
  TOPIC_HELLO_REQUEST,
  TOPIC_PONG,
  TOPIC_GOODBYE,
  TOPIC_CHALLENGE,
  TOPIC_UNKNOWN_CLIENT,
  TOPIC_REFUSED,
  SOCKET_DEFAULTS,
  clientLivenessOptions,
  reconnectIntervalWithJitter,
} from "./constants.js";
export { isValidClientName, isValidToken, assertClientName, assertToken } from "./validate.js";
export {
  systemTopic,
  clientSubscriptions,
  encodePing,
  encodeCheckin,
  encodePublisherMessage,
  decodePublisherMessage,
  isCheckinFor,
} from "./publisher.js";
export {
  encodePong,
  encodeSignedPong,
  encodeHello,
  encodeSignedHello,
  encodeConnectionHello,
  encodeHelloRequest,
  encodeGoodbye,
  encodeListenerMessage,
  decodeListenerMessage,
} from "./listener.js";
export {
  encodeChallenge,
  encodeUnknownClient,
  encodeRefused,
  encodeServerReply,
  decodeServerReply,
  decodeConnectionMessage,
} from "./replies.js";
export { signMessage, verifySignature, isValidCurveKey } from "./signature.js";
export { newPingToken } from "./token.js";
export {
  PROXY_LINK_VERSION,
  DEFAULT_PROXY_PORT,
  MAX_LINK_COMMAND_BYTES,
  MAX_LINK_PAYLOAD_BYTES,
  MAX_PROXY_DEPTH,
  LINK_KEEPALIVE_MS,
  LINK_SILENCE_MS,
  encodeLinkUp,
  encodeLinkDown,
  decodeLinkUp,
  decodeLinkDown,
  isValidConnectionId,
  assertConnectionId,
  isValidProxyName,
  nestConnectionId,
  splitConnectionId,
} from "./proxy-link.js";

export type { ProtocolErrorReason } from "./errors.js";
export type { Frames } from "./frames.js";
export type { PublisherMessage } from "./publisher.js";
export type {
  ListenerMessage,
  ClientHello,
  LastRun,
  Signature,
  HelloRequestVersion,
} from "./listener.js";
export type { ServerReply, RefusalReason, ConnectionMessage } from "./replies.js";
export type { SignedMessageType } from "./signature.js";
export type { LinkUpMessage, LinkDownMessage, KeyKind } from "./proxy-link.js";
