// The socket options of osad2's CURVE topology, for the bare-zeromq processes of `tools/bench raw`.
// They mirror packages/server/src/transport/sockets.ts and the client's subscriber, so the raw
// figure is what the same sockets cost without osad2 around them.
import { SOCKET_DEFAULTS } from "@osad2/protocol";

/** ZAP domains of the two server sockets, as the server names them. */
export const RAW_ZAP_DOMAIN = "osad2";
export const RAW_ZAP_LISTENER_DOMAIN = "osad2.listener";

/** What the server's PUB and ROUTER share. */
export function serverSocketOptions(secretKey: string, publicKey: string, zapDomain: string) {
  return {
    curveServer: true,
    curveSecretKey: secretKey,
    curvePublicKey: publicKey,
    zapDomain,
    zapEnforceDomain: true,
    tcpKeepalive: 1,
    tcpKeepaliveIdle: SOCKET_DEFAULTS.tcpKeepaliveIdle,
    tcpKeepaliveInterval: SOCKET_DEFAULTS.tcpKeepaliveInterval,
    tcpKeepaliveCount: SOCKET_DEFAULTS.tcpKeepaliveCount,
    linger: SOCKET_DEFAULTS.linger,
    maxMessageSize: SOCKET_DEFAULTS.maxMessageSize,
  };
}

export const RAW_PUBLISHER_EXTRA = { sendHighWaterMark: SOCKET_DEFAULTS.sendHighWaterMark };

export const RAW_ROUTER_EXTRA = {
  receiveHighWaterMark: SOCKET_DEFAULTS.serverReceiveHighWaterMark,
  sendHighWaterMark: SOCKET_DEFAULTS.serverSendHighWaterMark,
  handover: true,
};

/**
 * The single-connection topology's ROUTER also carries checkins and pings: a send to a
 * connection that is gone fails at once (EHOSTUNREACH) instead of being dropped silently.
 */
export const RAW_SINGLE_ROUTER_EXTRA = { ...RAW_ROUTER_EXTRA, mandatory: true };

/**
 * Client sockets: CURVE client options as osad2's, but a fixed 100 ms reconnect (libzmq's
 * default) instead of the client's back-off, so a restart measures handshake capacity, not a
 * back-off policy.
 */
export function clientSocketOptions(serverKey: string, publicKey: string, secretKey: string) {
  return {
    curveServerKey: serverKey,
    curvePublicKey: publicKey,
    curveSecretKey: secretKey,
    linger: SOCKET_DEFAULTS.linger,
    maxMessageSize: SOCKET_DEFAULTS.maxMessageSize,
    reconnectInterval: 100,
  };
}
