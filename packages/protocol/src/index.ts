export { ProtocolError } from "./errors.js";
export {
  PROTOCOL_VERSION,
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
  SOCKET_DEFAULTS,
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
  encodeHello,
  encodeListenerMessage,
  decodeListenerMessage,
} from "./listener.js";
export { newPingToken } from "./token.js";

export type { ProtocolErrorReason } from "./errors.js";
export type { Frames } from "./frames.js";
export type { PublisherMessage } from "./publisher.js";
export type { ListenerMessage, ClientHello, LastRun } from "./listener.js";
