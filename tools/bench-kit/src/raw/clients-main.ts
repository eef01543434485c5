// Bare-zeromq clients of `tools/bench raw`, many per process: each holds what an osad2 client
// holds in the chosen topology — a CURVE DEALER alone ("single") or SUB (its own topic) +
// DEALER ("pair"). A client is ready once its sockets completed their handshake and its
// ["hello", id] was answered; it reports each time it becomes ready again after a disconnect,
// and the arrival time of every checkin; it answers each ping with "pong" on the DEALER.
import * as zmq from "zeromq";
import type { RawTopology } from "../options.js";
import { emit, onStdinLines } from "./lines.js";
import { clientSocketOptions } from "./sockets.js";

/** What the bench passes in RAW_CLIENTS (JSON). */
export interface RawClientsSpec {
  readonly topology: RawTopology;
  readonly serverKey: string;
  /** pair only. */
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
  private readonly sub: zmq.Subscriber | undefined;
  private readonly dealer: zmq.Dealer;
  private subUp = false;
  private dealerUp = false;
  private waitingWelcome = false;
  private sends: Promise<void> = Promise.resolve();

  constructor(
    private readonly id: string,
    spec: RawClientsSpec,
    keys: { publicKey: string; secretKey: string },
  ) {
    const options = clientSocketOptions(spec.serverKey, keys.publicKey, keys.secretKey);
    this.dealer = new zmq.Dealer(options);
    if (spec.topology === "pair") {
      this.sub = new zmq.Subscriber(options);
      this.sub.subscribe(`${id} `);
      this.sub.events.on("handshake", () => this.up("sub"));
      this.sub.events.on("disconnect", () => (this.subUp = false));
      this.sub.connect(spec.publisherEndpoint);
    } else {
      this.subUp = true;
    }
    this.dealer.events.on("handshake", () => this.up("dealer"));
    this.dealer.events.on("disconnect", () => {
      this.dealerUp = false;
      this.waitingWelcome = false;
    });
    this.dealer.connect(spec.routerEndpoint);
    void this.receive();
  }

  private send(frames: string[]): Promise<void> {
    // zeromq.js allows one send at a time per socket.
    this.sends = this.sends.then(() => this.dealer.send(frames)).catch(() => undefined);
    return this.sends;
  }

  private up(which: "sub" | "dealer"): void {
    if (which === "sub") this.subUp = true;
    else this.dealerUp = true;
    if (this.subUp && this.dealerUp && !this.waitingWelcome) {
      this.waitingWelcome = true;
      void this.send(["hello", this.id]);
    }
  }

  private handle(body: string): void {
    if (body === "welcome") {
      this.waitingWelcome = false;
      emit({ event: "ready", id: this.id, at: Date.now() });
    } else if (body === "checkin") {
      emit({ event: "checkin", id: this.id, at: Date.now() });
    } else if (body === "ping") {
      void this.send(["pong"]);
    }
  }

  private async receive(): Promise<void> {
    const fromDealer = (async () => {
      for await (const [body] of this.dealer) this.handle(body?.toString() ?? "");
    })();
    if (this.sub) {
      const skip = this.id.length + 1;
      for await (const [message] of this.sub) this.handle(message?.toString().slice(skip) ?? "");
    }
    await fromDealer;
  }

  close(): void {
    this.sub?.close();
    this.dealer.close();
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.RAW_CLIENTS ?? "{}") as RawClientsSpec;
  // libzmq's default is 1,023 sockets per context; a client holds 1-2 sockets and a monitor
  // (2 inproc sockets) on each.
  zmq.context.maxSockets = spec.clients.length * (spec.topology === "pair" ? 6 : 3) + 64;
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
