// A server the way SUSE's seed built one, directly on zeromq: PUB + ROUTER as CURVE servers
// with one key pair, plus the ZAP handler the seed forgot to start (so keys are checked).
// Not @osad2/server: the client must work against the seed's wire format itself.
import { type KeyPair, z85Encode } from "@osad2/keys";
import * as zmq from "zeromq";

export interface Received {
  readonly routingId: string;
  readonly text: string;
  readonly frames: number;
}

export interface SeedServerOptions {
  readonly keyPair: KeyPair;
  /** Client public keys ZAP lets in; undefined = any key. */
  readonly allowed?: Set<string>;
  /**
   * Answer `hello-request 2` with `challenge <nonce>` as an osad2 0.2 (wire v2) server does,
   * which drops any other version (`hello-request 3`) without a word. Default: the seed (silent).
   */
  readonly v2?: boolean;
  /**
   * Answer `hello-request 3` with `challenge 3 <nonce>` as a wire-v3 server does, and its
   * first this many hellos with `refused busy` (a server that cannot read the key yet).
   */
  readonly v3RefuseBusy?: number;
}

const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

export class SeedServer {
  readonly received: Received[] = [];
  /** Client keys ZAP lets in (the allow-list; tests change it); undefined = any key. */
  readonly allowed: Set<string> | undefined;
  publisherEndpoint = "";
  listenerEndpoint = "";
  private readonly context = new zmq.Context();
  private zap: zmq.Router | undefined;
  private pub: zmq.Publisher | undefined;
  private router: zmq.Router | undefined;
  private waiters: Array<() => void> = [];
  private busyRefusals = 0;

  private constructor(private readonly options: SeedServerOptions) {
    this.allowed = options.allowed;
  }

  static async start(options: SeedServerOptions): Promise<SeedServer> {
    const server = new SeedServer(options);
    await server.startZap();
    await server.bind("tcp://127.0.0.1:0", "tcp://127.0.0.1:0");
    return server;
  }

  private async startZap(): Promise<void> {
    const zap = new zmq.Router({ context: this.context, linger: 0 });
    await zap.bind(ZAP_ENDPOINT);
    this.zap = zap;
    void (async () => {
      try {
        for await (const [id, empty, version, requestId, , , , , key] of zap) {
          const publicKey = key ? z85Encode(new Uint8Array(key)) : "";
          const ok = this.allowed === undefined || this.allowed.has(publicKey);
          await zap.send([
            id!,
            empty!,
            version!,
            requestId!,
            ok ? "200" : "400",
            ok ? "OK" : "denied",
            "",
            "",
          ]);
        }
      } catch {
        // closed
      }
    })();
  }

  private async bind(pubAddress: string, routerAddress: string): Promise<void> {
    // A function, not one object: zeromq's constructor removes `context` from the options it is given.
    const curve = () => ({
      context: this.context,
      linger: 0,
      curveServer: true,
      curveSecretKey: this.options.keyPair.secretKey,
      curvePublicKey: this.options.keyPair.publicKey,
      zapDomain: "osad2",
      zapEnforceDomain: true,
    });
    const pub = new zmq.Publisher(curve());
    const router = new zmq.Router(curve());
    await retryBind(pub, pubAddress);
    await retryBind(router, routerAddress);
    this.pub = pub;
    this.router = router;
    this.publisherEndpoint = pub.lastEndpoint as string;
    this.listenerEndpoint = router.lastEndpoint as string;
    void (async () => {
      try {
        for await (const [id, ...rest] of router) {
          this.received.push({
            routingId: id!.toString(),
            text: Buffer.concat(rest).toString("utf8"),
            frames: rest.length,
          });
          for (const w of this.waiters.splice(0)) w();
          const text = Buffer.concat(rest).toString("utf8");
          if (this.options.v2 === true && text === "hello-request 2") {
            await router.send([id!, `challenge v2-${this.received.length}`]);
          }
          if (this.options.v3RefuseBusy !== undefined) {
            if (text === "hello-request 3") {
              await router.send([id!, `challenge 3 v3-${this.received.length}`]);
            } else if (text.startsWith("hello ") && this.busyRefusals < this.options.v3RefuseBusy) {
              this.busyRefusals += 1;
              await router.send([id!, "refused busy"]);
            }
          }
        }
      } catch {
        // closed
      }
    })();
  }

  /** Publishes one message as-is: a string (one frame) or raw frames. */
  async publish(message: string | Buffer[]): Promise<void> {
    await this.pub!.send(typeof message === "string" ? message : message);
  }

  /** Resolves with the first received message matching, waiting up to ms. */
  waitFor(match: (r: Received) => boolean, ms: number, what: string): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const check = (): void => {
        const found = this.received.find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /**
   * Pings until the client answers: the seed's way of knowing a subscriber is live (PUB drops
   * whatever it publishes before the subscription has arrived).
   */
  async pingUntilAnswered(ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (let i = 0; Date.now() < deadline; i++) {
      const token = `warmup-${i}-${Math.random().toString(36).slice(2, 8)}`;
      await this.publish(`ping ${token}`);
      try {
        await this.waitFor((r) => r.text === `ping ${token}`, 100, "pong");
        return token;
      } catch {
        // not yet subscribed; ping again
      }
    }
    throw new Error(`no pong within ${ms} ms`);
  }

  /** Closes PUB and ROUTER (the "server stopped"); the ZAP handler stays. */
  closeSockets(): void {
    this.pub?.close();
    this.router?.close();
  }

  /** Binds PUB and ROUTER again on the same ports (the "server restarted"). */
  async rebind(): Promise<void> {
    await this.bind(this.publisherEndpoint, this.listenerEndpoint);
  }

  close(): void {
    this.closeSockets();
    this.zap?.close();
  }
}

/** A port just closed can take a moment to be free again inside libzmq. */
async function retryBind(socket: zmq.Socket, address: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await socket.bind(address);
      return;
    } catch (error) {
      if (attempt >= 50 || (error as { code?: string }).code !== "EADDRINUSE") throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
