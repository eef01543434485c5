import { generateKeyPair, type KeyPair } from "@osad2/keys";
import { Subscriber } from "@osad2/client";
import {
  decodeListenerMessage,
  encodeChallenge,
  encodeCheckin,
  encodeHelloRequest,
} from "@osad2/protocol";
import { waitFor } from "@osad2/test-helpers";
import * as zmq from "zeromq";
import { afterEach, describe, expect, it } from "vitest";
import type { Proxy } from "../src/index.js";
import { startProxy } from "./helpers.js";
import { LinkParent } from "./link-parent.js";

const parents: LinkParent[] = [];
const proxies: Proxy[] = [];
const subscribers: Subscriber[] = [];
const sockets: zmq.Socket[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.stop()));
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  await Promise.all(parents.splice(0).map((p) => p.close()));
});

const NAME = "0123456789abcdef";
const SHARED_KEY = "s3cret-shared-key";

async function world(options: { childProxy?: boolean } = {}) {
  const parent = await LinkParent.start();
  parents.push(parent);
  const top = await startProxy(parent.port, parent.keyPair.publicKey, { name: "dmz" });
  proxies.push(top.proxy);
  await waitFor("the proxy links", () => parent.of("link").length > 0);
  let front = top;
  if (options.childProxy === true) {
    const port = Number(top.proxyEndpoint.slice(top.proxyEndpoint.lastIndexOf(":") + 1));
    // Child proxy keys are in the server's proxies/: the parent admits this one.
    const childKeys = generateKeyPair();
    parent.allowed.add(childKeys.publicKey);
    const child = await startProxy(port, top.keyPair.publicKey, { name: "branch7" }, childKeys);
    proxies.push(child.proxy);
    front = child;
  }
  return { parent, top, front };
}

function subscriber(listener: string, proxyKey: string, clientKeys: KeyPair): Subscriber {
  const s = new Subscriber({
    clientName: NAME,
    sharedKey: SHARED_KEY,
    publisherEndpoint: listener,
    listenerEndpoint: listener,
    serverPublicKey: proxyKey,
    clientKeyPair: clientKeys,
    reconnectIntervalMs: 100,
    reconnectMaxIntervalMs: 500,
  });
  subscribers.push(s);
  return s;
}

/** Plays the server's part of the v3 hello through the link: challenge, and the signed hello back. */
async function helloThrough(parent: LinkParent): Promise<{ conn: string; hello: Buffer }> {
  const request = await waitFor("hello-request carried up", () =>
    parent.of("from").find((m) => decodeListenerMessage([m.payload]).kind === "hello-request"),
  );
  await parent.send({ kind: "to", conn: request.conn, payload: encodeChallenge("nonce-1", 3) });
  const hello = await waitFor("the hello carried up", () =>
    parent
      .of("from")
      .find((m) => m.conn === request.conn && decodeListenerMessage([m.payload]).kind === "hello"),
  );
  return { conn: request.conn, hello: hello.payload };
}

describe("osad2 proxy against an in-test parent speaking proxy-link", () => {
  it("carries a v3 client's frames up unchanged, attributes its key, and carries checkins down", async () => {
    const { parent, front } = await world();
    const clientKeys = generateKeyPair();
    parent.allowed.add(clientKeys.publicKey);
    const s = subscriber(front.listener, front.keyPair.publicKey, clientKeys);
    const checkins: number[] = [];
    s.on("checkin", () => checkins.push(Date.now()));
    await s.start();
    const { conn, hello } = await helloThrough(parent);
    const open = parent.of("open").find((m) => m.conn === conn);
    expect(open).toMatchObject({
      path: ["dmz"],
      address: "127.0.0.1",
      publicKey: clientKeys.publicKey,
    });
    const decoded = decodeListenerMessage([hello]);
    expect(decoded.kind === "hello" && decoded.hello.curvePublicKey).toBe(clientKeys.publicKey);
    // The admission was asked upstream as a client key.
    expect(parent.of("admit?")).toEqual([
      expect.objectContaining({ keyKind: "client", publicKey: clientKeys.publicKey }),
    ]);
    await parent.send({ kind: "to", conn, payload: encodeCheckin(NAME) });
    await waitFor("the checkin reaches the client", () => checkins.length === 1);
    await s.stop();
    await waitFor("close carried up", () => parent.of("close").some((m) => m.conn === conn));
  });

  it("refuses a key the parent denies", async () => {
    const { parent, front } = await world();
    const refused = subscriber(front.listener, front.keyPair.publicKey, generateKeyPair());
    const failures: string[] = [];
    refused.on("auth-failure", (f) => failures.push(f.event));
    await refused.start();
    await waitFor("the denied client is refused", () => failures.length > 0);
    expect(parent.of("open")).toEqual([]);
  });

  it("holds a handshake while the link is down and lets it in once the parent is back", async () => {
    const { parent, front } = await world();
    const keyPair = parent.keyPair;
    const port = parent.port;
    await parent.close();
    parents.length = 0;
    await waitFor(
      "the proxy sees the link lost",
      () => front.proxy.status.upstream?.connected === false,
      {
        timeoutMs: 25_000,
      },
    );
    const clientKeys = generateKeyPair();
    const s = subscriber(front.listener, front.keyPair.publicKey, clientKeys);
    await s.start();
    await waitFor(
      "the handshake waits for the link",
      () => front.proxy.status.admissionsWaiting === 1,
    );
    const back = await LinkParent.start(keyPair, port);
    parents.push(back);
    back.allowed.add(clientKeys.publicKey);
    const { conn } = await helloThrough(back);
    expect(back.of("open").find((m) => m.conn === conn)?.publicKey).toBe(clientKeys.publicKey);
  });

  it("refuses a handshake that waited linkWaitMs for a link that did not come back", async () => {
    const parent = await LinkParent.start();
    const port = parent.port;
    await parent.close();
    const front = await startProxy(port, parent.keyPair.publicKey, {
      admission: { linkWaitMs: 300 },
    });
    proxies.push(front.proxy);
    const s = subscriber(front.listener, front.keyPair.publicKey, generateKeyPair());
    const failures: string[] = [];
    s.on("auth-failure", (f) => failures.push(f.event));
    await s.start();
    await waitFor("refused after the wait", () => failures.length > 0);
  });

  it("gives each of many simultaneous connections the key of its own handshake", async () => {
    const { parent, front } = await world();
    const keys = Array.from({ length: 100 }, () => generateKeyPair());
    for (const k of keys) parent.allowed.add(k.publicKey);
    await Promise.all(
      keys.map(async (k) => {
        const dealer = new zmq.Dealer({
          curveServerKey: front.keyPair.publicKey,
          curvePublicKey: k.publicKey,
          curveSecretKey: k.secretKey,
          linger: 0,
          immediate: true,
        });
        sockets.push(dealer);
        dealer.connect(front.listener);
        // The proxy does not read it: any frame is carried; this one names the key it came with.
        await dealer.send(Buffer.from(`from-key ${k.publicKey}`));
      }),
    );
    await waitFor("every frame carried up", () => parent.of("from").length === keys.length);
    const opens = new Map(parent.of("open").map((m) => [m.conn, m.publicKey]));
    for (const m of parent.of("from")) {
      expect(`from-key ${opens.get(m.conn)}`).toBe(m.payload.toString());
    }
    expect(new Set(opens.values()).size).toBe(keys.length);
  });

  it("remembers an admission, and a revocation forgets it and cuts the key's connection", async () => {
    const { parent, front } = await world();
    const clientKeys = generateKeyPair();
    parent.allowed.add(clientKeys.publicKey);
    const s = subscriber(front.listener, front.keyPair.publicKey, clientKeys);
    await s.start();
    const { conn } = await helloThrough(parent);
    // A second connection with the same key: let in from the cache, no second question.
    const dealer = new zmq.Dealer({
      curveServerKey: front.keyPair.publicKey,
      curvePublicKey: clientKeys.publicKey,
      curveSecretKey: clientKeys.secretKey,
      linger: 0,
    });
    sockets.push(dealer);
    dealer.connect(front.listener);
    await dealer.send(encodeHelloRequest(3));
    await waitFor("the second connection opens", () => parent.of("open").length === 2);
    expect(parent.of("admit?")).toHaveLength(1);
    // Revoked at the server: both connections are cut within 5 s, and the key is asked about again.
    parent.allowed.delete(clientKeys.publicKey);
    const revokedAt = Date.now();
    await parent.send({ kind: "revoked", keyKind: "client", publicKey: clientKeys.publicKey });
    await waitFor("the connections are closed upstream", () =>
      parent.of("close").some((m) => m.conn === conn),
    );
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    await waitFor(
      "the key is asked about again on reconnect",
      () => parent.of("admit?").length >= 2,
    );
    const opensAfter = parent.of("open").length;
    await waitFor(
      "no new connection of the revoked key",
      () => parent.of("admit?").length >= 3 || Date.now() - revokedAt > 1_500,
    );
    expect(parent.of("open")).toHaveLength(opensAfter);
  });

  it("starts a new session on relink and re-announces every connection", async () => {
    const { parent, front } = await world();
    const clientKeys = generateKeyPair();
    parent.allowed.add(clientKeys.publicKey);
    const s = subscriber(front.listener, front.keyPair.publicKey, clientKeys);
    await s.start();
    const { conn } = await helloThrough(parent);
    const sessions = parent.of("link").map((m) => m.session);
    await parent.send({ kind: "relink" });
    await waitFor("a new link session", () => parent.of("link").length === sessions.length + 1);
    const linkAt = parent.heard.map((h) => h.message.kind).lastIndexOf("link");
    await waitFor("the connection is re-announced", () =>
      parent.heard.slice(linkAt + 1).some((h) => h.message.kind === "open"),
    );
    expect(parent.of("link").at(-1)?.session).not.toBe(sessions[0]);
    expect(parent.of("open").filter((m) => m.conn === conn)).toHaveLength(2);
  });

  it("carries clients behind a child proxy as nested connections with the path of both", async () => {
    const { parent, front } = await world({ childProxy: true });
    const clientKeys = generateKeyPair();
    parent.allowed.add(clientKeys.publicKey);
    const s = subscriber(front.listener, front.keyPair.publicKey, clientKeys);
    const checkins: number[] = [];
    s.on("checkin", () => checkins.push(Date.now()));
    await s.start();
    const { conn, hello } = await helloThrough(parent);
    expect(conn).toMatch(/^\d+\.\d+$/);
    expect(parent.of("open").find((m) => m.conn === conn)).toMatchObject({
      path: ["dmz", "branch7"],
      publicKey: clientKeys.publicKey,
    });
    const decoded = decodeListenerMessage([hello]);
    expect(decoded.kind === "hello" && decoded.hello.clientName).toBe(NAME);
    // The child proxy's own key was asked about as a proxy key; the client's as a client key.
    expect(
      parent
        .of("admit?")
        .map((m) => m.keyKind)
        .sort(),
    ).toEqual(["client", "proxy"]);
    await parent.send({ kind: "to", conn, payload: encodeCheckin(NAME) });
    await waitFor(
      "the checkin reaches the client through both proxies",
      () => checkins.length === 1,
    );
  });

  it("counts garbage from the parent and carries on", async () => {
    const { parent, front } = await world();
    await parent.sendRaw([Buffer.from("bogus command")]);
    await parent.sendRaw([Buffer.from([0xff, 0x00])]);
    await waitFor("garbage counted", () => front.proxy.status.malformed === 2);
    const clientKeys = generateKeyPair();
    parent.allowed.add(clientKeys.publicKey);
    const s = subscriber(front.listener, front.keyPair.publicKey, clientKeys);
    await s.start();
    await helloThrough(parent);
  });
});
