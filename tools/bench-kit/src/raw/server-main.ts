// The bare-zeromq server of `tools/bench raw`: a ZAP allow-list and, by topology, CURVE PUB +
// ROUTER ("pair") or a ROUTER alone ("single", mandatory delivery), with the server's options,
// nothing of osad2. Commands arrive as JSON lines on stdin:
//   {"cmd":"publish","ids":[...]}  send each client "checkin", then report the time
//   {"cmd":"ping","on":true|false}  ping every client that said hello, every pingIntervalMs
//   {"cmd":"sample"}               report hellos and pongs so far and the event-loop delay
//                                  since start (or since the last sample)
// A client's ["hello", id] on the ROUTER is answered with "welcome" (the osad2 hello/challenge
// round) and names its connection: in "single", checkins and pings go to that connection.
import fs from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { z85Encode } from "@osad2/keys";
import * as zmq from "zeromq";
import type { RawTopology } from "../options.js";
import { emit, onStdinLines } from "./lines.js";
import {
  RAW_PUBLISHER_EXTRA,
  RAW_ROUTER_EXTRA,
  RAW_SINGLE_ROUTER_EXTRA,
  RAW_ZAP_DOMAIN,
  RAW_ZAP_LISTENER_DOMAIN,
  serverSocketOptions,
} from "./sockets.js";

/** What the bench passes in RAW_SERVER (JSON). */
export interface RawServerSpec {
  readonly topology: RawTopology;
  readonly secretKey: string;
  readonly publicKey: string;
  /** A file with one allowed client public key (Z85) per line. */
  readonly allowedFile: string;
  /** pair only. */
  readonly publisherEndpoint: string;
  readonly routerEndpoint: string;
  readonly pingIntervalMs: number;
}

async function zapHandler(allowed: ReadonlySet<string>): Promise<void> {
  const zap = new zmq.Router({ linger: 0 });
  await zap.bind("inproc://zeromq.zap.01");
  for await (const frames of zap) {
    const [routingId, delimiter, version, requestId, , , , , credential] = frames;
    const key = credential?.length === 32 ? z85Encode(credential) : "";
    const ok = allowed.has(key);
    await zap.send([
      routingId ?? Buffer.alloc(0),
      delimiter ?? Buffer.alloc(0),
      version ?? Buffer.from("1.0"),
      requestId ?? Buffer.alloc(0),
      Buffer.from(ok ? "200" : "400"),
      Buffer.from(ok ? "OK" : "unknown key"),
      Buffer.from(ok ? key : ""),
      Buffer.alloc(0),
    ]);
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.RAW_SERVER ?? "{}") as RawServerSpec;
  const single = spec.topology === "single";
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const allowed = new Set(
    fs
      .readFileSync(spec.allowedFile, "utf8")
      .split("\n")
      .filter((line) => line.length > 0),
  );
  void zapHandler(allowed);
  const publisher = single
    ? undefined
    : new zmq.Publisher({
        ...serverSocketOptions(spec.secretKey, spec.publicKey, RAW_ZAP_DOMAIN),
        ...RAW_PUBLISHER_EXTRA,
      });
  const router = new zmq.Router({
    ...serverSocketOptions(spec.secretKey, spec.publicKey, RAW_ZAP_LISTENER_DOMAIN),
    ...(single ? RAW_SINGLE_ROUTER_EXTRA : RAW_ROUTER_EXTRA),
  });
  if (publisher) await publisher.bind(spec.publisherEndpoint);
  await router.bind(spec.routerEndpoint);
  /** Client id → its connection's routing id (the latest hello wins, as after a reconnect). */
  const connections = new Map<string, Buffer>();
  let hellos = 0;
  let pongs = 0;
  let gone = 0;
  // zeromq.js allows one send at a time per socket: every send goes through this chain.
  let routerSends: Promise<void> = Promise.resolve();
  const toClient = (id: string, body: string): Promise<void> => {
    if (publisher) return publisher.send(`${id} ${body}`);
    const routingId = connections.get(id);
    if (routingId === undefined) return Promise.resolve();
    return router.send([routingId, body]).catch(() => {
      // EHOSTUNREACH (mandatory): the connection is gone; forget it until its next hello.
      if (connections.get(id) === routingId) connections.delete(id);
      gone++;
    });
  };
  void (async () => {
    for await (const [routingId, kind, id] of router) {
      if (routingId === undefined) continue;
      if (kind?.toString() === "pong") {
        pongs++;
        continue;
      }
      hellos++;
      if (id !== undefined) connections.set(id.toString(), routingId);
      routerSends = routerSends
        .then(() => router.send([routingId, "welcome"]))
        .catch(() => undefined);
    }
  })();
  let pinger: NodeJS.Timeout | undefined;
  let pubSends: Promise<void> = Promise.resolve();
  const sendAll = (ids: readonly string[], body: string): Promise<void> => {
    const run = async (): Promise<void> => {
      for (const id of ids) await toClient(id, body);
    };
    if (publisher) return (pubSends = pubSends.then(run));
    return (routerSends = routerSends.then(run));
  };
  onStdinLines((message) => {
    if (message.cmd === "publish") {
      const ids = message.ids as string[];
      const start = Date.now();
      void sendAll(ids, "checkin").then(() =>
        emit({ event: "published", start, end: Date.now(), count: ids.length }),
      );
    } else if (message.cmd === "ping") {
      clearInterval(pinger);
      pinger = message.on
        ? setInterval(() => void sendAll([...connections.keys()], "ping"), spec.pingIntervalMs)
        : undefined;
    } else if (message.cmd === "sample") {
      emit({
        event: "sample",
        hellos,
        pongs,
        gone,
        connections: connections.size,
        lagMaxMs: Math.round(lag.max / 1e5) / 10,
        lagP99Ms: Math.round(lag.percentile(99) / 1e5) / 10,
      });
      lag.reset();
    }
  });
  emit({ event: "listening", at: Date.now() });
}

main().catch((error: unknown) => {
  process.stderr.write(`raw server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
