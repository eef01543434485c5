/**
 * Wire-format version of the osad2 extensions (the seed format itself has no version).
 * 1: the unsigned hello. 2: signed hello, pong and goodbye with server challenges.
 * 3: one connection per client (everything over the DEALER ↔ ROUTER connection).
 */
export const PROTOCOL_VERSION = 3;
/** The signed hello over a SUB + DEALER pair (osad2 0.2). */
export const SIGNED_HELLO_VERSION = 2;
/** One connection: the server binds the verified name to the hello's connection. */
export const CONNECTION_VERSION = 3;
/** The unsigned hello of version 1, still sent to seed-format servers. */
export const UNSIGNED_HELLO_VERSION = 1;

/** The seed's PUB port: the server publishes `ping` and `system:<name> checkin` here. */
export const DEFAULT_PUBLISHER_PORT = 5555;
/** The seed's ROUTER port: clients' DEALERs send ping answers (and osad2 hellos) here. */
export const DEFAULT_LISTENER_PORT = 5556;
/** Default port of the osad2 server's own XML-RPC registration endpoint. */
export const DEFAULT_XMLRPC_PORT = 5557;

/**
 * Frames larger than this are refused before any decoding. The largest message (a signed
 * hello) is under 600 bytes; 4 KiB leaves room and bounds what a peer can queue.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024;
/** Client names are rhnPushClient.name: varchar(64). */
export const MAX_CLIENT_NAME_LENGTH = 64;
export const MAX_TOKEN_LENGTH = 128;

export const TOPIC_PING = "ping";
export const TOPIC_SYSTEM_PREFIX = "system:";
export const TOPIC_HELLO = "hello";
export const COMMAND_CHECKIN = "checkin";
/** Signed messages (v2): a client asks for a challenge, answers pings, says goodbye. */
export const TOPIC_HELLO_REQUEST = "hello-request";
export const TOPIC_PONG = "pong";
export const TOPIC_GOODBYE = "goodbye";
/** Server → client over the ROUTER: a nonce to sign the hello with. */
export const TOPIC_CHALLENGE = "challenge";
/** Server → client: this name is not registered or its signature fails; register again. */
export const TOPIC_UNKNOWN_CLIENT = "unknown-client";
/** Server → client: the message was refused for a reason the client can fix itself. */
export const TOPIC_REFUSED = "refused";

/**
 * Socket options shared by server and client, spelled as zeromq.js spells them.
 * Clients find a dead server behind NAT, or a crashed host or cut path that TCP alone would
 * not notice for hours, with kernel TCP keepalive (clientTcp*); the server uses keepalive too
 * (one socket, thousands of peers: see tcpKeepalive*). The reconnect bounds keep a restarted
 * server from being hammered (add jitter per client with {@link reconnectIntervalWithJitter}).
 * The heartbeat* values are for the few links that still use ZMTP heartbeats (a proxy's
 * upstream link to the server).
 */
export const SOCKET_DEFAULTS = {
  /** ZMTP PING every 10 s. */
  heartbeatInterval: 10_000,
  /**
   * Peer is dead when no traffic arrives 10 s after a PING (its PONG comes back in a round
   * trip). A cut link leaves TCP hung, not closed, and after a long cut its retransmissions
   * back off past the restore; a client that found the dead connection within 20 s instead
   * keeps reconnecting (at most 5 s apart) and is back within seconds of the path being
   * whole. With 30 s a 30 s cut was found 40 s in: delivery ~12 s after the restore
   * (e2e/test/across-hosts.test.ts). Same PING rate, so no more load on the server.
   */
  heartbeatTimeout: 10_000,
  /**
   * No TTL in our PINGs (0): a PING with a TTL makes the server's libzmq arm a TTL timer for
   * that connection and cancel it on the next message from it, and libzmq 4.3.5 cancels a
   * timer by walking every timer of its I/O thread (see tcpKeepalive*). At 18,000 clients that
   * was O(connections) per ping and pong: the server's ZMQ I/O thread at 31 % of a core and the
   * main thread falling behind on pongs while idle. The server needs no TTL: its own pings,
   * ROUTER_MANDATORY and TCP keepalive find the connections that are gone.
   */
  heartbeatTimeToLive: 0,
  /**
   * Clients' liveness: kernel TCP keepalive after 10 s without a byte from the server, a probe
   * every 5 s, and the connection dropped once 20 s pass unanswered (TCP_USER_TIMEOUT, which
   * also bounds data left unacknowledged). The same 10–20 s as a ZMTP PING every 10 s with a
   * 10 s timeout, but the server's kernel answers the probes: a client's PING and PONG were two
   * CURVE messages per client per 10 s on the server's one ZMQ I/O thread, as many as its own
   * ping and the pong (at 18,000 clients, half of that thread's steady load). What keepalive
   * does not see is a server process that is frozen while its host is up; its pings stop, and
   * presence, not the connection, is what tells that.
   */
  clientTcpKeepaliveIdle: 10,
  clientTcpKeepaliveInterval: 5,
  clientTcpKeepaliveCount: 2,
  clientTcpMaxRetransmitTimeout: 20_000,
  /** First reconnect attempt after 1 s (before jitter). */
  reconnectInterval: 1_000,
  /**
   * Exponential back-off stops growing at 5 s: after a long outage every client is back
   * within 5 s of the restart instead of up to 60 s. Each client draws its own first
   * interval (1–2 s), so 18,000 clients arrive spread over about a second, which a server
   * handshakes in about as long (CURVE costs ~0.5 ms per handshake on one core).
   */
  reconnectMaxInterval: 5_000,
  /** The share of reconnectInterval added at random, per client. */
  reconnectJitter: 1.0,
  /** Queue up to this many messages per peer before PUB drops (never blocks). */
  sendHighWaterMark: 100_000,
  /** Clients queue what the server publishes (pings, checkins) up to this many. */
  receiveHighWaterMark: 100_000,
  /**
   * The server's ROUTER queues at most this many messages per client: a client sends a few
   * per ping interval, so 1,000 is ample, and a flooding peer holds at most 1,000 × 4 KiB.
   */
  serverReceiveHighWaterMark: 1_000,
  /** Replies (challenges, refusals) queued per client on the server's ROUTER. */
  serverSendHighWaterMark: 1_000,
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
  /**
   * The server drops a connection whose sent data stays unacknowledged this long (TCP_USER_TIMEOUT,
   * in the kernel: no libzmq timer): a client host that vanished with pings queued to it. What the
   * clients' PING TTL did at 60 s before it went (see heartbeatTimeToLive); keepalive covers the
   * connections with nothing in flight.
   */
  serverTcpMaxRetransmitTimeout: 60_000,
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

/** The liveness options of a client's sockets (SUB and DEALER), as zeromq.js spells them. */
export function clientLivenessOptions(): {
  tcpKeepalive: number;
  tcpKeepaliveIdle: number;
  tcpKeepaliveInterval: number;
  tcpKeepaliveCount: number;
  tcpMaxRetransmitTimeout: number;
} {
  return {
    tcpKeepalive: 1,
    tcpKeepaliveIdle: SOCKET_DEFAULTS.clientTcpKeepaliveIdle,
    tcpKeepaliveInterval: SOCKET_DEFAULTS.clientTcpKeepaliveInterval,
    tcpKeepaliveCount: SOCKET_DEFAULTS.clientTcpKeepaliveCount,
    tcpMaxRetransmitTimeout: SOCKET_DEFAULTS.clientTcpMaxRetransmitTimeout,
  };
}
