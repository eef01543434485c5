// Bare-zeromq clients of `tools/bench raw`, many per process: each a CURVE SUB (its own topic)
// and DEALER, as an osad2 client holds. A client is ready once both sockets completed their
// handshake and its "hello" was answered; it reports each time it becomes ready again after a
// disconnect, and the arrival time of every checkin.
import * as zmq from "zeromq";
import { emit, onStdinLines } from "./lines.js";
import { clientSocketOptions } from "./sockets.js";

/** What the bench passes in RAW_CLIENTS (JSON). */
export interface RawClientsSpec {
  readonly serverKey: string;
  readonly publisherEndpoint: string;
  readonly routerEndpoint: string;
  /** Clients started per second (0 = all at once). */
  readonly connectRate: number;
  readonly clients: readonly {
    readonly id: string;
    readonly publicKey: string;
    readonly secretKey: string;
  }[];
}

class RawClient {
  private readonly sub: zmq.Subscriber;
  private readonly dealer: zmq.Dealer;
  private subUp = false;
  private dealerUp = false;
  private waitingWelcome = false;

  constructor(
    private readonly id: string,
    spec: RawClientsSpec,
    keys: { publicKey: string; secretKey: string },
  ) {
    const options = clientSocketOptions(spec.serverKey, keys.publicKey, keys.secretKey);
    this.sub = new zmq.Subscriber(options);
    this.dealer = new zmq.Dealer(options);
    this.sub.subscribe(`${id} `);
    this.sub.events.on("handshake", () => this.up("sub"));
    this.dealer.events.on("handshake", () => this.up("dealer"));
    this.sub.events.on("disconnect", () => (this.subUp = false));
    this.dealer.events.on("disconnect", () => {
      this.dealerUp = false;
      this.waitingWelcome = false;
    });
    this.sub.connect(spec.publisherEndpoint);
    this.dealer.connect(spec.routerEndpoint);
    void this.receive();
  }

  private up(which: "sub" | "dealer"): void {
    if (which === "sub") this.subUp = true;
    else this.dealerUp = true;
    if (this.subUp && this.dealerUp && !this.waitingWelcome) {
      this.waitingWelcome = true;
      void this.dealer.send("hello").catch(() => (this.waitingWelcome = false));
    }
  }

  private async receive(): Promise<void> {
    const welcomes = (async () => {
      for await (const _ of this.dealer) {
        this.waitingWelcome = false;
        emit({ event: "ready", id: this.id, at: Date.now() });
      }
    })();
    for await (const _ of this.sub) emit({ event: "checkin", id: this.id, at: Date.now() });
    await welcomes;
  }

  close(): void {
    this.sub.close();
    this.dealer.close();
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.RAW_CLIENTS ?? "{}") as RawClientsSpec;
  const clients: RawClient[] = [];
  onStdinLines(() => undefined);
  process.once("SIGTERM", () => {
    for (const client of clients) client.close();
    process.exit(0);
  });
  const gapMs = spec.connectRate > 0 ? 1000 / spec.connectRate : 0;
  const start = Date.now();
  for (const [index, keys] of spec.clients.entries()) {
    clients.push(new RawClient(keys.id, spec, keys));
    const due = start + (index + 1) * gapMs;
    if (gapMs > 0 && due > Date.now())
      await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`raw clients: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
