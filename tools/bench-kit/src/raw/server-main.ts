// The bare-zeromq server of `tools/bench raw`: a ZAP allow-list, CURVE PUB and ROUTER with the
// server's options, nothing of osad2. Commands arrive as JSON lines on stdin:
//   {"cmd":"publish","topics":[...]}  send "<topic> checkin" to each, then report the time
//   {"cmd":"sample"}                   report the hellos answered so far
// A client's "hello" on the ROUTER is answered with "welcome" (the osad2 hello/challenge round).
import fs from "node:fs";
import { z85Encode } from "@osad2/keys";
import * as zmq from "zeromq";
import { emit, onStdinLines } from "./lines.js";
import {
  RAW_PUBLISHER_EXTRA,
  RAW_ROUTER_EXTRA,
  RAW_ZAP_DOMAIN,
  RAW_ZAP_LISTENER_DOMAIN,
  serverSocketOptions,
} from "./sockets.js";

/** What the bench passes in RAW_SERVER (JSON). */
export interface RawServerSpec {
  readonly secretKey: string;
  readonly publicKey: string;
  /** A file with one allowed client public key (Z85) per line. */
  readonly allowedFile: string;
  readonly publisherEndpoint: string;
  readonly routerEndpoint: string;
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
  const allowed = new Set(
    fs
      .readFileSync(spec.allowedFile, "utf8")
      .split("\n")
      .filter((line) => line.length > 0),
  );
  void zapHandler(allowed);
  const publisher = new zmq.Publisher({
    ...serverSocketOptions(spec.secretKey, spec.publicKey, RAW_ZAP_DOMAIN),
    ...RAW_PUBLISHER_EXTRA,
  });
  const router = new zmq.Router({
    ...serverSocketOptions(spec.secretKey, spec.publicKey, RAW_ZAP_LISTENER_DOMAIN),
    ...RAW_ROUTER_EXTRA,
  });
  await publisher.bind(spec.publisherEndpoint);
  await router.bind(spec.routerEndpoint);
  let hellos = 0;
  let replies: Promise<void> = Promise.resolve();
  void (async () => {
    for await (const [routingId] of router) {
      hellos++;
      if (routingId === undefined) continue;
      // zeromq.js allows one send at a time per socket.
      replies = replies.then(() => router.send([routingId, "welcome"])).catch(() => undefined);
    }
  })();
  let sends: Promise<void> = Promise.resolve();
  onStdinLines((message) => {
    if (message.cmd === "publish") {
      const topics = message.topics as string[];
      sends = sends.then(async () => {
        const start = Date.now();
        for (const topic of topics) await publisher.send(`${topic} checkin`);
        emit({ event: "published", start, end: Date.now(), count: topics.length });
      });
    } else if (message.cmd === "sample") {
      emit({ event: "sample", hellos });
    }
  });
  emit({ event: "listening", at: Date.now() });
}

main().catch((error: unknown) => {
  process.stderr.write(`raw server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
