/** Wire-format version of the osad2 extensions (the seed format itself has no version). */
export const PROTOCOL_VERSION = 1;

/** The seed's PUB port: the server publishes `ping` and `system:<name> checkin` here. */
export const DEFAULT_PUBLISHER_PORT = 5555;
/** The seed's ROUTER port: clients' DEALERs send ping answers (and osad2 hellos) here. */
export const DEFAULT_LISTENER_PORT = 5556;
/** Default port of the osad2 server's own XML-RPC registration endpoint. */
export const DEFAULT_XMLRPC_PORT = 5557;

/** Frames larger than this are refused before any decoding. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Client names are rhnPushClient.name: varchar(64). */
export const MAX_CLIENT_NAME_LENGTH = 64;
export const MAX_TOKEN_LENGTH = 128;

export const TOPIC_PING = "ping";
export const TOPIC_SYSTEM_PREFIX = "system:";
export const TOPIC_HELLO = "hello";
export const COMMAND_CHECKIN = "checkin";

/**
 * Socket options shared by server and client, spelled as zeromq.js spells them.
 * Clients use ZMTP heartbeats to find a dead server behind NAT or a crashed host that TCP
 * alone would not notice for hours; the server does not (one socket, thousands of peers:
 * see tcpKeepalive*). The reconnect bounds keep a restarted server from being hammered
 * (add jitter per client with {@link reconnectIntervalWithJitter}).
 */
export const SOCKET_DEFAULTS = {
  /** ZMTP PING every 10 s. */
  heartbeatInterval: 10_000,
  /** Peer is dead when no traffic arrives 30 s after a PING. */
  heartbeatTimeout: 30_000,
  /** Asks the peer to drop us after 60 s of silence. */
  heartbeatTimeToLive: 60_000,
  /** First reconnect attempt after 1 s (before jitter). */
  reconnectInterval: 1_000,
  /** Exponential back-off stops growing at 60 s. */
  reconnectMaxInterval: 60_000,
  /** The share of reconnectInterval added at random, per client. */
  reconnectJitter: 1.0,
  /** Queue up to this many messages per peer before PUB drops (never blocks). */
  sendHighWaterMark: 100_000,
  receiveHighWaterMark: 100_000,
  /**
   * Kernel TCP keepalive for the server's sockets instead of ZMTP heartbeats: libzmq 4.3.5
   * cancels a heartbeat timer by walking all of its I/O thread's timers, on every message, so
   * heartbeats on a socket with thousands of peers cost O(peers) per message and stall
   * connections past ~5,000 clients (see docs/benchmarks.md). The server's own `ping` every
   * ping_interval covers liveness; keepalive only reclaims connections of vanished hosts.
   */
  tcpKeepaliveIdle: 120,
  tcpKeepaliveInterval: 30,
  tcpKeepaliveCount: 4,
  /** Do not hold the process open for unsent messages on close. */
  linger: 0,
  /** Refuse any frame larger than the protocol allows at the socket already. */
  maxMessageSize: MAX_MESSAGE_BYTES,
} as const;

/**
 * The first reconnect interval for one client: the base plus a random share of it,
 * so 10,000 clients do not all come back in the same second after a server restart.
 */
export function reconnectIntervalWithJitter(
  random: () => number = Math.random,
  base: number = SOCKET_DEFAULTS.reconnectInterval,
  jitter: number = SOCKET_DEFAULTS.reconnectJitter,
): number {
  return Math.round(base + base * jitter * random());
}
