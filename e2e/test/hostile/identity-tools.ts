// Attack tools for the identity tests: a raw zeromq peer holding an allowed CURVE key,
// talking to the real server process, as an attacker with a stolen or spare key would.
import * as zmq from "zeromq";
import { certificateLayout, generateKeyPair, KeyStore, readPublicKey } from "@osad2/keys";
import { decodeServerReply, type ServerReply } from "@osad2/protocol";
import type { Deployment } from "@osad2/testkit";

/** A peer with an allowed key: SUB to everything, DEALER with the routing id it chooses. */
export class Peer {
  readonly published: string[] = [];
  readonly replies: ServerReply[] = [];
  private readonly sub: zmq.Subscriber;
  readonly dealer: zmq.Dealer;

  constructor(
    curve: { curveServerKey: string; curvePublicKey: string; curveSecretKey: string },
    ports: { publisher: number; listener: number },
    routingId?: string,
  ) {
    const sub = new zmq.Subscriber({ ...curve, linger: 0 });
    const dealer = new zmq.Dealer({
      ...curve,
      linger: 0,
      ...(routingId === undefined ? {} : { routingId }),
    });
    this.sub = sub;
    this.dealer = dealer;
    sub.subscribe();
    sub.connect(`tcp://127.0.0.1:${ports.publisher}`);
    dealer.connect(`tcp://127.0.0.1:${ports.listener}`);
    void (async () => {
      for await (const [frame] of sub) this.published.push(String(frame));
    })().catch(() => undefined);
    void (async () => {
      for await (const frames of dealer) {
        try {
          this.replies.push(decodeServerReply(frames));
        } catch {
          // not ours to judge
        }
      }
    })().catch(() => undefined);
  }

  /** Tokens of the pings seen so far. */
  get tokens(): string[] {
    return this.published.filter((t) => t.startsWith("ping ")).map((t) => t.slice(5));
  }

  send(frame: Buffer): Promise<void> {
    return this.dealer.send(frame);
  }

  close(): void {
    this.sub.close();
    this.dealer.close();
  }
}

/** Adds a fresh key pair to the server's allow-list and returns CURVE options using it. */
export async function allowedCurve(
  d: Deployment,
  label: string,
): Promise<{ curveServerKey: string; curvePublicKey: string; curveSecretKey: string }> {
  const pair = generateKeyPair();
  const keys = await KeyStore.open(d.certificates);
  try {
    await keys.add(label, pair.publicKey);
  } finally {
    await keys.close();
  }
  return {
    curveServerKey: await readPublicKey(certificateLayout(d.certificates).serverPublicPath),
    curvePublicKey: pair.publicKey,
    curveSecretKey: pair.secretKey,
  };
}

/** A counter of the server's /metrics (summed over its label sets, or one label set). */
export async function metric(d: Deployment, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${d.ports.metrics}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const key = line.slice(0, line.lastIndexOf(" "));
    if (labels === "" ? key === name || key.startsWith(`${name}{`) : key === `${name}{${labels}}`)
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}
