import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import readline from "node:readline";
import { pathToFileURL } from "node:url";
import { freePort, sleep } from "@osad2/test-helpers";
import * as zmq from "zeromq";
import type { Log } from "./setup.js";
import { distribution, type Distribution } from "./stats.js";

/** What the same host's ZeroMQ alone costs: the floor under osad2's schedule → checkin. */
export interface BaselineResult {
  readonly what: string;
  readonly tries: number;
  readonly failures: number;
  /** Published → received by the other process (its Date.now()). */
  readonly checkin: Distribution | undefined;
}

const TOPIC = "system:baseline ";
const WAIT_MS = 5_000;

/** The subscriber process: prints one JSON line per message with its arrival time. */
const SUBSCRIBER = `
const zmq = await import(process.env.ZMQ_URL);
const sub = new zmq.Subscriber({
  curveServerKey: process.env.SERVER_KEY,
  curvePublicKey: process.env.PUBLIC_KEY,
  curveSecretKey: process.env.SECRET_KEY,
});
sub.connect(process.env.ENDPOINT);
sub.subscribe(${JSON.stringify(TOPIC)});
for await (const [message] of sub) {
  process.stdout.write(JSON.stringify({ at: Date.now(), text: String(message) }) + "\\n");
}`;

/**
 * A bare CURVE PUB in this process and a SUB in another Node process on 127.0.0.1, no osad2
 * in between: each try publishes `system:baseline checkin` and takes the time until the other
 * process has it, the same clock as the latency bench's client log.
 */
export async function bareZeromqBaseline(tries: number, log: Log): Promise<BaselineResult> {
  const server = zmq.curveKeyPair();
  const client = zmq.curveKeyPair();
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const pub = new zmq.Publisher({ curveServer: true, curveSecretKey: server.secretKey });
  await pub.bind(endpoint);
  const require = createRequire(import.meta.url);
  const child = spawn(process.execPath, ["--input-type=module", "-e", SUBSCRIBER], {
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      ...process.env,
      ZMQ_URL: pathToFileURL(require.resolve("zeromq")).href,
      SERVER_KEY: server.publicKey,
      PUBLIC_KEY: client.publicKey,
      SECRET_KEY: client.secretKey,
      ENDPOINT: endpoint,
    },
  });
  const arrivals: { at: number; text: string }[] = [];
  readline
    .createInterface({ input: child.stdout })
    .on("line", (line) => arrivals.push(JSON.parse(line) as { at: number; text: string }));
  const arrived = async (count: number): Promise<boolean> => {
    const deadline = Date.now() + WAIT_MS;
    while (arrivals.length < count && Date.now() < deadline) await sleep(1);
    return arrivals.length >= count;
  };
  try {
    // PUB drops what it sends before the subscription arrived: warm up until one gets through.
    for (let i = 0; arrivals.length === 0; i++) {
      if (i > 200) throw new Error("bare zeromq subscriber never received the warm-up");
      await pub.send(`${TOPIC}warmup`);
      await sleep(25);
    }
    await sleep(100);
    const times: number[] = [];
    let failures = 0;
    for (let i = 0; i < tries; i++) {
      const before = arrivals.length;
      const t0 = Date.now();
      await pub.send(`${TOPIC}checkin`);
      if (await arrived(before + 1)) times.push((arrivals[before]?.at ?? t0) - t0);
      else failures++;
      await sleep(10 + Math.floor(Math.random() * 40));
    }
    log(`bare zeromq baseline: ${tries} tries`);
    return {
      what: "CURVE PUB (this process) → SUB (another Node process), 127.0.0.1, no osad2",
      tries,
      failures,
      checkin: distribution(times),
    };
  } finally {
    child.kill("SIGTERM");
    pub.close();
  }
}
