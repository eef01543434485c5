// Test helpers of the server-core tests: real key stores, real CURVE client sockets, a server
// on free ports over a real database. Nothing here fakes a part.
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import * as zmq from "zeromq";
import pino from "pino";
import { afterEach, beforeEach } from "vitest";
import { createServerKeyPair, generateKeyPair, KeyStore, type KeyPair } from "@osad2/keys";
import {
  clientSubscriptions,
  decodePublisherMessage,
  decodeConnectionMessage,
  encodeConnectionHello,
  encodeHello,
  encodeHelloRequest,
  encodePong,
  encodeSignedHello,
  encodeSignedPong,
  type ServerReply,
  type PublisherMessage,
} from "@osad2/protocol";
import { createServer, type CreateServerOptions, type Osad2Server } from "../src/server.js";
import type { ServerConfig } from "../src/config/schema.js";
import { openStore } from "../src/db/index.js";
import { createSystem } from "../src/testing/index.js";
import type { SpacewalkStore } from "../src/db/types.js";
import { createTestDatabase, tempDir, waitFor, type TestDatabase } from "@osad2/test-helpers";

/** A certificates directory with server keys and an allow-list. */
export interface TestKeys {
  readonly root: string;
  readonly server: KeyPair;
  /** Generates a client key pair and allows it (public_keys/<name>.key). */
  allow(name: string): Promise<KeyPair>;
  revoke(name: string): Promise<void>;
  remove(): Promise<void>;
}

export async function createTestKeys(): Promise<TestKeys> {
  const dir = await tempDir("osad2-core-keys-");
  const root = dir.path;
  const { keyPair } = await createServerKeyPair(root);
  const withStore = async <T>(work: (store: KeyStore) => Promise<T>): Promise<T> => {
    const store = await KeyStore.open(root, { pollIntervalMs: 0, fsWatch: false });
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };
  return {
    root,
    server: keyPair,
    async allow(name) {
      const pair = generateKeyPair();
      await withStore((store) => store.add(name, pair.publicKey));
      return pair;
    },
    async revoke(name) {
      await withStore((store) => store.revoke(name));
    },
    remove: () => dir.remove(),
  };
}

/** Logs to stderr when OSAD2_TEST_LOG=1, otherwise silent. */
export function testLogger(): pino.Logger {
  return pino(
    { level: process.env.OSAD2_TEST_LOG === "1" ? "debug" : "silent" },
    pino.destination(2),
  );
}

/** Fast settings for tests: loopback, free ports, short intervals, no XML-RPC or metrics unless asked. */
export function testConfig(
  db: TestDatabase,
  keys: TestKeys,
  overrides: Partial<ServerConfig> = {},
): Partial<ServerConfig> {
  return {
    bind: "127.0.0.1",
    publicHost: "127.0.0.1",
    publisherPort: 0,
    listenerPort: 0,
    proxyPort: 0,
    xmlrpcPort: 0,
    metricsPort: 0,
    pingInterval: 0.2,
    actionPollInterval: 0.5,
    missedPings: 3,
    notifyThreshold: 0,
    certificates: keys.root,
    // Inside the test's own directory, never the machine's /var/lib/osad2.
    stateDir: path.join(keys.root, "state"),
    database: db.url,
    databaseSchema: db.schema ?? "",
    ...overrides,
  };
}

export async function startTestServer(
  db: TestDatabase,
  keys: TestKeys,
  overrides: Partial<ServerConfig> = {},
  options: CreateServerOptions = {},
): Promise<Osad2Server> {
  const server = createServer(testConfig(db, keys, overrides), {
    logger: testLogger(),
    prepare: true,
    processMetrics: false,
    ...options,
  });
  await server.start();
  return server;
}

/**
 * A store of the test database for the test's own writes; prepared (tables exist). On
 * PostgreSQL it connects under another application_name, so terminateConnections() hits
 * only the server's connections.
 */
export async function testStore(db: TestDatabase): Promise<SpacewalkStore> {
  const url =
    db.schema === undefined
      ? db.url
      : db.url.replace(/application_name=([^&]+)/, "application_name=$1_test");
  const store = await openStore(url, db.schema === undefined ? {} : { schema: db.schema });
  await store.prepare();
  return store;
}

/** The shared key {@link seedClient} registers for a name (TestClient signs with it by default). */
export function sharedKeyFor(clientName: string): string {
  return createHash("sha256").update(`test shared key of ${clientName}`).digest("hex").slice(0, 40);
}

/** A Spacewalk system with a registered push client of the given name and {@link sharedKeyFor} key. */
export async function seedClient(store: SpacewalkStore, clientName: string): Promise<number> {
  const { system } = await createSystem(store, { name: `host-${clientName}` });
  await store.registerPushClient(system.id, {
    name: clientName,
    sharedKey: sharedKeyFor(clientName),
  });
  return system.id;
}

export function clientName(): string {
  return randomBytes(8).toString("hex");
}

/** Options of {@link TestClient.connect}. */
export interface TestClientOptions {
  readonly name: string;
  readonly keyPair: KeyPair;
  readonly serverPublicKey: string;
  readonly publisher: string;
  readonly listener: string;
  /** Echo pings (default true). */
  readonly answerPings?: boolean;
  /** Send a hello after each (re)connect of the DEALER (default true). */
  readonly hello?: boolean;
  /** Subscribe to everything instead of the client's own topics (default false). */
  readonly subscribeAll?: boolean;
  /** Signs with this key. Default {@link sharedKeyFor}(name). */
  readonly sharedKey?: string;
  /** Speak the seed's unsigned format: routing id = name, unsigned echo and v1 hello (default false). */
  readonly seedFormat?: boolean;
  /** 3: one DEALER connection, no SUB (hello-request 3); default 2 (SUB + DEALER). */
  readonly wireVersion?: 2 | 3;
}

/**
 * A push client built directly on zeromq: SUB for the server's messages, DEALER (a routing id
 * of its own) for answers, both CURVE with its own key pair. It speaks the protocol exactly
 * as @osad2/client does: hello-request, signed hello on the challenge, signed pongs (or, with
 * seedFormat, the seed's unsigned format).
 */
export class TestClient {
  readonly received: { at: number; message: PublisherMessage }[] = [];
  readonly events: { at: number; socket: "sub" | "dealer"; type: string }[] = [];
  private readonly sub: zmq.Subscriber;
  private readonly dealer: zmq.Dealer;
  private readonly loops: Promise<void>[] = [];
  private readonly up = { sub: false, dealer: false };
  private readonly v3: boolean;

  private constructor(private readonly options: TestClientOptions) {
    const curve = {
      curveServerKey: options.serverPublicKey,
      curvePublicKey: options.keyPair.publicKey,
      curveSecretKey: options.keyPair.secretKey,
      linger: 0,
      reconnectInterval: 100,
    };
    this.v3 = options.wireVersion === 3;
    this.sub = new zmq.Subscriber(curve);
    this.dealer = new zmq.Dealer(
      options.seedFormat === true ? { ...curve, routingId: options.name } : curve,
    );
    if (options.subscribeAll === true) this.sub.subscribe();
    else for (const topic of clientSubscriptions(options.name)) this.sub.subscribe(topic);
    this.loops.push(this.watch(this.dealer, "dealer"), this.readReplies());
    if (this.v3) this.up.sub = true;
    else {
      this.loops.push(this.watch(this.sub, "sub"), this.read());
      this.sub.connect(options.publisher);
    }
    this.dealer.connect(options.listener);
  }

  static connect(options: TestClientOptions): TestClient {
    return new TestClient(options);
  }

  get checkins(): number {
    return this.received.filter((r) => r.message.kind === "checkin").length;
  }

  get pings(): number {
    return this.received.filter((r) => r.message.kind === "ping").length;
  }

  /** Times of `type` events on either socket. */
  eventCount(type: string, socket?: "sub" | "dealer"): number {
    return this.events.filter(
      (e) => e.type === type && (socket === undefined || e.socket === socket),
    ).length;
  }

  private async watch(socket: zmq.Socket, which: "sub" | "dealer"): Promise<void> {
    try {
      for await (const event of socket.events) {
        this.events.push({ at: Date.now(), socket: which, type: event.type });
        if (event.type === "handshake") this.up[which] = true;
        if (event.type === "disconnect") this.up[which] = false;
        // As @osad2/client does: a hello once both sockets completed their handshake (again).
        if (
          event.type === "handshake" &&
          this.up.sub &&
          this.up.dealer &&
          this.options.hello !== false
        ) {
          await this.send(
            this.options.seedFormat === true
              ? encodeHello({ clientName: this.options.name, software: "test", lastRun: null })
              : encodeHelloRequest(this.v3 ? 3 : 2),
          );
        }
      }
    } catch {
      // socket closed
    }
  }

  private async read(): Promise<void> {
    try {
      for await (const frames of this.sub) await this.published(decodePublisherMessage(frames));
    } catch {
      // socket closed
    }
  }

  private async published(message: PublisherMessage): Promise<void> {
    this.received.push({ at: Date.now(), message });
    if (message.kind === "ping" && this.options.answerPings !== false) {
      await this.send(
        this.options.seedFormat === true
          ? encodePong(message.token)
          : encodeSignedPong(this.options.name, message.token, this.sharedKey),
      );
    }
  }

  /** Replies of the server over the DEALER: a challenge is answered with a signed hello. */
  readonly replies: ServerReply[] = [];
  private async readReplies(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        const message = decodeConnectionMessage(frames);
        if (message.kind === "ping" || message.kind === "checkin") {
          await this.published(message);
          continue;
        }
        const reply = message;
        this.replies.push(reply);
        if (reply.kind === "challenge") {
          const hello = { clientName: this.options.name, software: "test", lastRun: null };
          await this.send(
            reply.version === 3
              ? encodeConnectionHello(
                  hello,
                  reply.nonce,
                  this.sharedKey,
                  this.options.keyPair.publicKey,
                )
              : encodeSignedHello(hello, reply.nonce, this.sharedKey),
          );
        }
      }
    } catch {
      // socket closed
    }
  }

  private get sharedKey(): string {
    return this.options.sharedKey ?? sharedKeyFor(this.options.name);
  }

  private sending: Promise<void> = Promise.resolve();
  private send(frame: Buffer): Promise<void> {
    this.sending = this.sending.then(() => this.dealer.send(frame)).catch(() => undefined);
    return this.sending;
  }

  async close(): Promise<void> {
    this.sub.close();
    this.dealer.close();
    await Promise.allSettled(this.loops);
  }
}

/** Connects a TestClient to a running server. */
export function connectClient(
  server: Osad2Server,
  keys: TestKeys,
  name: string,
  keyPair: KeyPair,
  options: Partial<TestClientOptions> = {},
): TestClient {
  const endpoints = server.endpoints();
  return TestClient.connect({
    name,
    keyPair,
    serverPublicKey: keys.server.publicKey,
    publisher: endpoints.publisher,
    listener: endpoints.listener,
    ...options,
  });
}

/** Sum of a Prometheus metric's samples in /metrics text (all label sets). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** A registered system of {@link ServerHarness.registered}. */
export interface RegisteredClient {
  readonly name: string;
  readonly serverId: number;
  readonly keyPair: KeyPair;
}

/** A registered system whose client is connected and online ({@link ServerHarness.onlineClient}). */
export interface OnlineClient extends RegisteredClient {
  readonly client: TestClient;
}

/** Options of {@link useServerHarness}. */
export interface ServerHarnessOptions {
  /**
   * Runs in afterEach once the test's clients are closed and its servers stopped, before the
   * store, keys and database go (e.g. to take down a relay those servers used). Default none.
   */
  readonly afterServersStop?: () => void | Promise<void>;
}

/**
 * What each server-core test gets from {@link useServerHarness}: its own database, key
 * directory and store, and the servers and clients it started (all cleaned up after it).
 */
export interface ServerHarness {
  /** The running test's database (a fresh SQLite file or PostgreSQL schema). */
  readonly db: TestDatabase;
  /** The running test's certificates directory. */
  readonly keys: TestKeys;
  /** The running test's own store of {@link db} (see {@link testStore}). */
  readonly store: SpacewalkStore;
  /** Servers stopped after the test; {@link server} adds to it. */
  readonly servers: Osad2Server[];
  /** Clients closed after the test (before the servers stop). */
  readonly clients: TestClient[];
  /** Starts a server ({@link startTestServer}) on the test's database and keys. */
  server(overrides?: Partial<ServerConfig>, options?: CreateServerOptions): Promise<Osad2Server>;
  /** Seeds a system with a push client; its key is allowed unless `allowed` is false (default true). */
  registered(allowed?: boolean): Promise<RegisteredClient>;
  /** A registered system whose client is connected to `server` and online in the store. */
  onlineClient(server: Osad2Server, options?: Partial<TestClientOptions>): Promise<OnlineClient>;
}

/**
 * Registers the beforeEach/afterEach hooks of a server-core suite and returns its harness. Call
 * it inside the describe; afterEach closes clients, stops servers, then closes the store and
 * removes the keys and the database.
 */
export function useServerHarness(
  kind: TestDatabase["kind"],
  options: ServerHarnessOptions = {},
): ServerHarness {
  let current: { db: TestDatabase; keys: TestKeys; store: SpacewalkStore } | undefined;
  const servers: Osad2Server[] = [];
  const clients: TestClient[] = [];
  const now = () => {
    if (current === undefined) throw new Error("server harness used outside a running test");
    return current;
  };

  beforeEach(async () => {
    const db = await createTestDatabase(kind);
    const keys = await createTestKeys();
    const store = await testStore(db);
    current = { db, keys, store };
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await options.afterServersStop?.();
    const { db, keys, store } = now();
    current = undefined;
    await store.close();
    await keys.remove();
    await db.drop();
  });

  const harness: ServerHarness = {
    get db() {
      return now().db;
    },
    get keys() {
      return now().keys;
    },
    get store() {
      return now().store;
    },
    servers,
    clients,
    async server(overrides = {}, createOptions = {}) {
      const { db, keys } = now();
      const s = await startTestServer(db, keys, overrides, createOptions);
      servers.push(s);
      return s;
    },
    async registered(allowed = true) {
      const { keys, store } = now();
      const name = clientName();
      const serverId = await seedClient(store, name);
      const keyPair = allowed ? await keys.allow(name) : generateKeyPair();
      return { name, serverId, keyPair };
    },
    async onlineClient(server, clientOptions = {}) {
      const { keys, store } = now();
      const registered = await harness.registered();
      const client = connectClient(
        server,
        keys,
        registered.name,
        registered.keyPair,
        clientOptions,
      );
      clients.push(client);
      await waitFor(
        `${registered.name} online`,
        async () => (await store.findClient(registered.name))?.state === "online",
      );
      return { ...registered, client };
    },
  };
  return harness;
}
