import * as zmq from "zeromq";
import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPair, KeyStore, type KeyPair } from "@osad2/keys";
import { encodePing } from "@osad2/protocol";
import { createZmqContext } from "../src/transport/context.js";
import { ServerSockets } from "../src/transport/sockets.js";
import { ZapHandler, type ZapRejection } from "../src/transport/zap.js";
import { waitFor } from "@osad2/test-helpers";
import { createTestKeys, testLogger, type TestKeys } from "./core-fixtures.js";

/** A bare SUB client that records what it receives and its handshake outcome. */
function subscriber(endpoint: string, serverKey: string, pair: KeyPair) {
  const sub = new zmq.Subscriber({
    curveServerKey: serverKey,
    curvePublicKey: pair.publicKey,
    curveSecretKey: pair.secretKey,
    linger: 0,
  });
  sub.subscribe("ping ");
  const state = { received: 0, handshakes: 0, refusals: 0 };
  void (async () => {
    for await (const _ of sub) state.received += 1;
  })().catch(() => undefined);
  void (async () => {
    for await (const event of sub.events) {
      if (event.type === "handshake") state.handshakes += 1;
      if (event.type === "handshake:error:auth") state.refusals += 1;
    }
  })().catch(() => undefined);
  sub.connect(endpoint);
  return { sub, state };
}

type Cleanup = () => Promise<void> | void;

/** The key store, ZAP handler and bound sockets of a server on `keys`; `cleanups` close them. */
async function openTransport(
  keys: TestKeys,
  cleanups: Cleanup[],
  options: { readonly rejections?: ZapRejection[]; readonly rescanGapMs?: number } = {},
): Promise<{ store: KeyStore; sockets: ServerSockets }> {
  const store = await KeyStore.open(keys.root, { pollIntervalMs: 0, fsWatch: false });
  cleanups.push(() => store.close());
  const context = createZmqContext();
  const zap = await ZapHandler.start({
    context,
    keys: store,
    logger: testLogger(),
    report: { rejected: (rejection) => options.rejections?.push(rejection) },
    ...(options.rescanGapMs === undefined ? {} : { rescanGapMs: options.rescanGapMs }),
  });
  cleanups.push(() => zap.close());
  const sockets = await ServerSockets.open({
    context,
    bind: "127.0.0.1",
    publisherPort: 0,
    routerPort: 0,
    keyPair: keys.server,
    logger: testLogger(),
  });
  cleanups.push(() => sockets.close());
  return { store, sockets };
}

describe("ZAP handler (RFC 27) with the key store as allow-list", () => {
  let keys: TestKeys | undefined;
  const cleanups: Cleanup[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await keys?.remove();
  });

  it("control: a CURVE PUB without a ZAP handler accepts any client key (why the handler exists)", async () => {
    const server = generateKeyPair();
    const pub = new zmq.Publisher({
      context: new zmq.Context(),
      curveServer: true,
      curveSecretKey: server.secretKey,
      linger: 0,
    });
    cleanups.push(() => pub.close());
    await pub.bind("tcp://127.0.0.1:0");
    const stranger = subscriber(pub.lastEndpoint as string, server.publicKey, generateKeyPair());
    cleanups.push(() => stranger.sub.close());
    await waitFor("stranger handshake", () => stranger.state.handshakes >= 1);
    await waitFor("stranger receives", async () => {
      await pub.send(encodePing("token1"));
      return stranger.state.received >= 1;
    });
    expect(stranger.state.refusals).toBe(0);
  });

  it("refuses unknown keys, admits allowed ones, and admits a key added a moment before it connects", async () => {
    keys = await createTestKeys();
    const allowed = await keys.allow("allowed");
    const rejections: ZapRejection[] = [];
    const { sockets } = await openTransport(keys, cleanups, { rejections, rescanGapMs: 100 });

    const good = subscriber(sockets.publisherEndpoint, keys.server.publicKey, allowed);
    const strangerPair = generateKeyPair();
    const stranger = subscriber(sockets.publisherEndpoint, keys.server.publicKey, strangerPair);
    cleanups.push(
      () => good.sub.close(),
      () => stranger.sub.close(),
    );
    await waitFor("stranger refused", () => stranger.state.refusals >= 1);
    await waitFor("good client receives", async () => {
      await sockets.publish(encodePing("t"));
      return good.state.received >= 3;
    });
    expect(stranger.state.received).toBe(0);
    expect(stranger.state.handshakes).toBe(0);
    expect(rejections).toContainEqual({
      address: "127.0.0.1",
      publicKey: strangerPair.publicKey,
      reason: "unknown-key",
    });

    // Added by another process (the store here never watches): the miss triggers a rescan.
    const late = await keys.allow("late");
    const latecomer = subscriber(sockets.publisherEndpoint, keys.server.publicKey, late);
    cleanups.push(() => latecomer.sub.close());
    await waitFor("latecomer admitted", () => latecomer.state.handshakes >= 1);
    expect(latecomer.state.refusals).toBe(0);
  });

  it("cuts every connection on rebind; an allowed client reconnects, a revoked one is refused", async () => {
    keys = await createTestKeys();
    const stay = await keys.allow("stay");
    const go = await keys.allow("go");
    const { store, sockets } = await openTransport(keys, cleanups);
    const a = subscriber(sockets.publisherEndpoint, keys.server.publicKey, stay);
    const b = subscriber(sockets.publisherEndpoint, keys.server.publicKey, go);
    cleanups.push(
      () => a.sub.close(),
      () => b.sub.close(),
    );
    await waitFor("both connected", () => a.state.handshakes >= 1 && b.state.handshakes >= 1);
    const endpoint = sockets.publisherEndpoint;

    await keys.revoke("go");
    await store.reload();
    await sockets.rebind();
    expect(sockets.publisherEndpoint).toBe(endpoint);
    expect(sockets.state).toEqual({ publisher: true, listener: true });
    await waitFor("revoked client refused", () => b.state.refusals >= 1);
    await waitFor("allowed client back", () => a.state.handshakes >= 2);
    const before = b.state.received;
    await waitFor("allowed client receives after the rebind", async () => {
      await sockets.publish(encodePing("after"));
      return a.state.received >= 2;
    });
    expect(b.state.received).toBe(before);
  });
});

describe("ServerSockets.messages() across re-binds", () => {
  let keys: TestKeys | undefined;
  const cleanups: Cleanup[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await keys?.remove();
  });

  it("keeps delivering a client's messages while the sockets are re-bound under it", async () => {
    keys = await createTestKeys();
    const pair = await keys.allow("talker");
    const { sockets } = await openTransport(keys, cleanups);
    const received: string[] = [];
    const reading = (async () => {
      for await (const [, frame] of sockets.messages()) received.push(String(frame));
    })();
    // The reader ends once the sockets are closed (close() is idempotent).
    cleanups.push(async () => {
      await sockets.close();
      await reading;
    });
    const dealer = new zmq.Dealer({
      curveServerKey: keys.server.publicKey,
      curvePublicKey: pair.publicKey,
      curveSecretKey: pair.secretKey,
      routingId: "talker",
      linger: 0,
      reconnectInterval: 50,
    });
    dealer.connect(sockets.routerEndpoint);
    let talking = true;
    const talk = (async () => {
      // Messages sent while the connection is down queue in the DEALER; the send never fails.
      for (let i = 0; talking; i++) {
        await dealer.send(`ping t${i}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    cleanups.push(async () => {
      talking = false;
      dealer.close(); // a send waiting for the connection then rejects
      await talk.catch(() => undefined);
    });
    await waitFor("first messages", () => received.length >= 10);
    for (let i = 0; i < 5; i++) {
      await sockets.rebind();
      const seen = received.length;
      await waitFor(`messages after re-bind ${i + 1}`, () => received.length > seen + 10);
    }
    expect(sockets.state).toEqual({ publisher: true, listener: true });
  });
});
