import * as zmq from "zeromq";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createServerKeyPair,
  generateKeyPair,
  KeyStore,
  readKeyPair,
  readPublicKey,
  z85Encode,
  certificateLayout,
  type KeyPair,
} from "../src/index.js";
import { sleep, TempDirs } from "@osad2/test-helpers";

const dirs = new TempDirs("osad2-keys-");
afterEach(() => dirs.removeAll());

type Socket = zmq.Publisher | zmq.Subscriber | zmq.Router;
const sockets: Socket[] = [];
const stores: KeyStore[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  for (const store of stores.splice(0)) await store.close();
});

function track<T extends Socket>(socket: T): T {
  sockets.push(socket);
  return socket;
}

/** Records a socket's events; `until` waits (bounded) for the first event of the given kinds. */
function observe(socket: Socket): {
  types: string[];
  until: (match: (type: string) => boolean, timeoutMs: number) => Promise<string>;
} {
  const types: string[] = [];
  const waiters: Array<{ match: (type: string) => boolean; resolve: (type: string) => void }> = [];
  void (async () => {
    for await (const event of socket.events) {
      types.push(event.type);
      for (const waiter of [...waiters]) {
        if (waiter.match(event.type)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event.type);
        }
      }
    }
  })().catch(() => undefined);
  return {
    types,
    until: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const seen = types.find(match);
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no matching socket event within ${timeoutMs} ms: ${types.join(", ")}`),
            ),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (type) => {
            clearTimeout(timer);
            resolve(type);
          },
        });
      }),
  };
}

/** Publishes `message` every 50 ms until `done` settles (PUB drops what nobody has subscribed to yet). */
async function publishUntil(
  pub: zmq.Publisher,
  message: string,
  done: Promise<unknown>,
): Promise<void> {
  let finished = false;
  const stop = done.finally(() => {
    finished = true;
  });
  while (!finished) {
    await pub.send(message);
    await Promise.race([stop.catch(() => undefined), sleep(50)]);
  }
  await stop;
}

function subscriber(context: zmq.Context, serverPublicKey: string, own: KeyPair): zmq.Subscriber {
  const sub = track(
    new zmq.Subscriber({
      context,
      linger: 0,
      curveServerKey: serverPublicKey,
      curvePublicKey: own.publicKey,
      curveSecretKey: own.secretKey,
    }),
  );
  sub.subscribe("system:");
  return sub;
}

async function curvePublisher(
  context: zmq.Context,
  server: KeyPair,
  zapDomain?: string,
): Promise<{ pub: zmq.Publisher; endpoint: string }> {
  const pub = track(
    new zmq.Publisher({
      context,
      linger: 0,
      curveServer: true,
      curveSecretKey: server.secretKey,
      curvePublicKey: server.publicKey,
      ...(zapDomain !== undefined ? { zapDomain, zapEnforceDomain: true } : {}),
    }),
  );
  await pub.bind("tcp://127.0.0.1:0");
  const endpoint = pub.lastEndpoint;
  if (endpoint === null) throw new Error("publisher has no endpoint");
  return { pub, endpoint };
}

describe("CURVE with keys from @osad2/keys (real zeromq over TCP)", () => {
  beforeAll(() => {
    expect(zmq.capability.curve).toBe(true);
  });

  it("delivers a message from a CURVE PUB to a SUB holding the server's public key", async () => {
    const root = await dirs.make();
    await createServerKeyPair(root);
    const layout = certificateLayout(root);
    // Each side reads what it would read in production: server its secret file, client the public one.
    const server = await readKeyPair(layout.serverSecretPath);
    const serverPublic = await readPublicKey(layout.serverPublicPath);
    const context = new zmq.Context();

    const { pub, endpoint } = await curvePublisher(context, server);
    const pubEvents = observe(pub);
    const sub = subscriber(context, serverPublic, generateKeyPair());
    const subEvents = observe(sub);
    sub.connect(endpoint);

    const received = sub.receive();
    await publishUntil(pub, "system:abc checkin", received);
    const [frame] = await received;
    expect(frame?.toString()).toBe("system:abc checkin");
    expect(sub.securityMechanism).toBe("curve");
    await subEvents.until((t) => t === "handshake", 5000);
    await pubEvents.until((t) => t === "handshake", 5000);
    expect(
      [...subEvents.types, ...pubEvents.types].filter((t) => t.startsWith("handshake:error")),
    ).toEqual([]);
  });

  it("a SUB holding the wrong server key gets nothing and the handshake failure shows in socket events", async () => {
    const server = generateKeyPair();
    const context = new zmq.Context();
    const { pub, endpoint } = await curvePublisher(context, server);
    const pubEvents = observe(pub);
    const sub = subscriber(context, generateKeyPair().publicKey, generateKeyPair());
    const subEvents = observe(sub);
    sub.connect(endpoint);

    let got: string | undefined;
    void sub.receive().then(
      ([frame]) => (got = frame?.toString()),
      () => undefined,
    );
    const started = performance.now();
    const failures = Promise.all([
      // The server cannot open the client's HELLO box: a cryptographic protocol error.
      pubEvents.until((t) => t === "handshake:error:protocol", 5000),
      // The client sees the connection dropped before any handshake completes.
      subEvents.until((t) => t.startsWith("handshake:error:") || t === "disconnect", 5000),
    ]);
    await publishUntil(pub, "system:abc checkin", failures);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(got).toBeUndefined();
    expect(subEvents.types).not.toContain("handshake");
    expect(pubEvents.types).not.toContain("handshake");
  });

  it("a ZAP handler over KeyStore.has admits allowed keys and refuses a revoked one", async () => {
    const root = await dirs.make();
    const { keyPair: server } = await createServerKeyPair(root);
    const store = await KeyStore.open(root, { pollIntervalMs: 0 });
    stores.push(store);
    const allowed = generateKeyPair();
    const revoked = generateKeyPair();
    await store.add("allowed", allowed.publicKey);
    await store.add("revoked", revoked.publicKey);
    await store.revoke("revoked");

    const context = new zmq.Context();
    // ZAP (RFC 27): libzmq asks this inproc ROUTER about every CURVE client; the key arrives raw.
    const zap = track(new zmq.Router({ context, linger: 0 }));
    await zap.bind("inproc://zeromq.zap.01");
    const asked: string[] = [];
    void (async () => {
      for await (const [id, empty, version, requestId, , , , , clientKey] of zap) {
        const key = clientKey ? z85Encode(new Uint8Array(clientKey)) : "";
        asked.push(key);
        const ok = store.has(key);
        await zap.send([
          id ?? "",
          empty ?? "",
          version ?? "1.0",
          requestId ?? "",
          ok ? "200" : "400",
          ok ? "OK" : "key not allowed",
          ok ? (store.findByPublicKey(key)?.name ?? "") : "",
          "",
        ]);
      }
    })().catch(() => undefined);

    const { pub, endpoint } = await curvePublisher(context, server, "osad2");
    const good = subscriber(context, server.publicKey, allowed);
    const bad = subscriber(context, server.publicKey, revoked);
    const badEvents = observe(bad);
    let badGot: string | undefined;
    void bad.receive().then(
      ([frame]) => (badGot = frame?.toString()),
      () => undefined,
    );
    good.connect(endpoint);
    bad.connect(endpoint);

    const received = good.receive();
    const refused = badEvents.until((t) => t === "handshake:error:auth", 5000);
    await publishUntil(pub, "system:allowed checkin", Promise.all([received, refused]));
    expect((await received)[0]?.toString()).toBe("system:allowed checkin");
    expect(badGot).toBeUndefined();
    expect(asked).toContain(allowed.publicKey);
    expect(asked).toContain(revoked.publicKey);
  });
});
