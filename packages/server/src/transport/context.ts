import * as zmq from "zeromq";
import { assertCurveAvailable } from "@osad2/service-kit/zeromq";

/**
 * Socket slots per context. libzmq's default (1023) counts sockets, not connections;
 * the server itself needs four (ZAP, PUB, ROUTER, and a spare during a re-bind), so
 * raising it only buys headroom at the cost of a few pointers. What limits 10,000
 * clients is file descriptors: the systemd unit raises LimitNOFILE.
 */
export const ZMQ_MAX_SOCKETS = 4096;

/**
 * One context per server: the ZAP handler must live in the same context as the
 * sockets it authenticates, and a private context keeps two servers in one process
 * (tests) from answering each other's ZAP requests.
 */
export function createZmqContext(): zmq.Context {
  assertCurveAvailable(zmq.capability);
  const context = new zmq.Context({ blocky: false });
  context.maxSockets = Math.min(ZMQ_MAX_SOCKETS, context.maxSocketsLimit);
  return context;
}
