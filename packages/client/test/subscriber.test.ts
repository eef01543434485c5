import { generateKeyPair, type KeyPair } from "@osad2/keys";
import { decodeListenerMessage, verifySignature } from "@osad2/protocol";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freePort, waitFor } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import { Subscriber, type AuthFailure, type SubscriberOptions } from "../src/index.js";
import { SeedServer } from "./seed-server.js";

const servers: SeedServer[] = [];
const subscribers: Subscriber[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.stop()));
  for (const s of servers.splice(0)) s.close();
});

const NAME = "0123456789abcdef";
const execFileAsync = promisify(execFile);

async function setup(
  options: {
    allowed?: "client" | "none";
    serverKey?: string;
    v2?: boolean;
    v3RefuseBusy?: number;
  } & Partial<SubscriberOptions> = {},
): Promise<{ server: SeedServer; subscriber: Subscriber; clientKeys: KeyPair; events: string[] }> {
  const serverKeys = generateKeyPair();
  const clientKeys = generateKeyPair();
  const allowed =
    options.allowed === undefined
      ? undefined
      : new Set(options.allowed === "client" ? [clientKeys.publicKey] : []);
  const server = await SeedServer.start({
    keyPair: serverKeys,
    ...(allowed ? { allowed } : {}),
    ...(options.v2 === true ? { v2: true } : {}),
    ...(options.v3RefuseBusy === undefined ? {} : { v3RefuseBusy: options.v3RefuseBusy }),
  });
  servers.push(server);
  const subscriber = new Subscriber({
    clientName: NAME,
    publisherEndpoint: server.publisherEndpoint,
    listenerEndpoint: server.listenerEndpoint,
    serverPublicKey: options.serverKey ?? serverKeys.publicKey,
    clientKeyPair: clientKeys,
    reconnectIntervalMs: 100,
    reconnectMaxIntervalMs: 2_000,
    lastRun: () => ({ at: 1_700_000_000, exitCode: 0 }),
    ...options,
  });
  subscribers.push(subscriber);
  const events: string[] = [];
  for (const e of ["checkin", "connected", "disconnected", "auth-failure"] as const) {
    subscriber.on(e, () => events.push(e));
  }
  return { server, subscriber, clientKeys, events };
}

function once<T>(
  emitter: Subscriber,
  event: "connected" | "disconnected" | "auth-failure",
  ms: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (value: unknown) => {
      clearTimeout(timer);
      resolve(value as T);
    });
  });
}

const hellos = (server: SeedServer): number =>
  server.received.filter((r) => r.text.startsWith("hello ")).length;

describe("Subscriber against a seed-style CURVE server", () => {
  it("says hello over the DEALER with its name as routing id and echoes pings", async () => {
    const { server, subscriber } = await setup({ allowed: "client" });
    const connected = once(subscriber, "connected", 10_000);
    subscriber.start();
    await connected;
    expect(subscriber.isConnected).toBe(true);
    const hello = await server.waitFor((r) => r.text.startsWith("hello "), 15_000, "hello");
    expect(hello.routingId).toBe(NAME);
    expect(decodeListenerMessage(Buffer.from(hello.text))).toEqual({
      kind: "hello",
      hello: {
        version: 1,
        clientName: NAME,
        software: "0.1.0",
        lastRun: { at: 1_700_000_000, exitCode: 0 },
      },
    });
    const token = await server.pingUntilAnswered();
    const pong = server.received.find((r) => r.text === `ping ${token}`);
    expect(pong).toMatchObject({ routingId: NAME, frames: 1 });
  });

  it("arms the kernel's TCP keepalive (10 s idle) on both connections: a cut path is found without ZMTP heartbeats", async () => {
    const { server, subscriber } = await setup({ allowed: "client" });
    const connected = once(subscriber, "connected", 10_000);
    subscriber.start();
    await connected;
    const ports = [server.publisherEndpoint, server.listenerEndpoint].map((e) =>
      e.split(":").at(-1),
    );
    // The client's side of each connection (its peer is the server's port), once nothing is in
    // flight on it: while data is unacknowledged the kernel shows the retransmission timer.
    const keepaliveSeconds = async (port: string | undefined): Promise<number> => {
      const timer = await waitFor(
        `a keepalive timer on the connection to port ${port}`,
        async () => {
          const { stdout } = await execFileAsync("ss", ["-tnoH", "state", "established"]);
          const line = stdout
            .split("\n")
            .find((l) => l.trim().split(/\s+/)[3] === `127.0.0.1:${port}`);
          return /timer:\(keepalive,(?:(\d+)min)?([\d.]+)(ms|sec),\d+\)/.exec(line ?? "");
        },
        { timeoutMs: 5_000 },
      );
      return Number(timer[1] ?? 0) * 60 + Number(timer[2]) / (timer[3] === "ms" ? 1000 : 1);
    };
    for (const port of ports) {
      const seconds = await keepaliveSeconds(port);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(10);
    }
  });

  it("acts on its own checkin exactly once; ignores other names, unknown commands and garbage", async () => {
    const { server, subscriber, events } = await setup({ allowed: "client" });
    const checkins: number[] = [];
    subscriber.on("checkin", (c) => {
      expect(c.clientName).toBe(NAME);
      checkins.push(c.at);
    });
    subscriber.start();
    await server.pingUntilAnswered();
    await server.publish(`system:${NAME}x checkin`);
    await server.publish(`system:${NAME.slice(0, -1)} checkin`);
    await server.publish(`system:${NAME} reboot`);
    await server.publish(`system:${NAME}  checkin`);
    await server.publish([Buffer.from(`system:${NAME} checkin`), Buffer.from("extra frame")]);
    await server.publish([Buffer.from(`system:${NAME} `), Buffer.from([0xff, 0xfe, 0xfd])]);
    await server.publish(
      Buffer.concat([Buffer.from(`system:${NAME} `), Buffer.from([0xc3, 0x28])]).toString("latin1"),
    );
    await server.publish("ping two words");
    await server.publish(`system:${NAME} checkin`); // the seed's exact format
    await server.publish("ping marker");
    await server.waitFor((r) => r.text === "ping marker", 15_000, "pong to the marker");
    expect(checkins).toHaveLength(1);
    expect(events.filter((e) => e === "checkin")).toHaveLength(1);
    // still alive and answering after all that
    await server.pingUntilAnswered();
    expect(server.received.some((r) => r.text === "ping two words")).toBe(false);
  });

  it("says hello again after the server's sockets are closed and bound again", async () => {
    const { server, subscriber, events } = await setup({ allowed: "client" });
    subscriber.start();
    await once(subscriber, "connected", 10_000);
    await server.waitFor((r) => r.text.startsWith("hello "), 15_000, "first hello");
    expect(hellos(server)).toBe(1);

    const disconnected = once(subscriber, "disconnected", 10_000);
    server.closeSockets();
    await disconnected;
    expect(subscriber.isConnected).toBe(false);
    const reconnected = once(subscriber, "connected", 15_000);
    await server.rebind();
    await reconnected;
    await server.waitFor(() => hellos(server) >= 2, 15_000, "second hello");
    expect(events).toEqual(["connected", "disconnected", "connected"]);
    // and checkins flow again on the new connection
    await server.pingUntilAnswered();
    const checkin = new Promise<void>((resolve) => subscriber.once("checkin", () => resolve()));
    await server.publish(`system:${NAME} checkin`);
    await checkin;
  });

  it("reports a wrong server key as auth-failure, backs off, and never connects", async () => {
    const { server, subscriber, events } = await setup({ serverKey: generateKeyPair().publicKey });
    const failures: AuthFailure[] = [];
    subscriber.on("auth-failure", (f) => failures.push(f));
    subscriber.start();
    await once(subscriber, "auth-failure", 10_000);
    await once(subscriber, "auth-failure", 10_000);
    await subscriber.stop();
    expect(failures[0]).toMatchObject({ event: "handshake:error:other", failures: 1 });
    expect(failures[0]!.retryInMs).toBeGreaterThanOrEqual(100);
    // exponential: the second wait is about twice the first (+ up to 25% jitter each)
    expect(failures[1]!.failures).toBe(2);
    expect(failures[1]!.retryInMs).toBeGreaterThanOrEqual(200);
    expect(events.filter((e) => e === "connected" || e === "checkin")).toEqual([]);
    expect(server.received).toEqual([]);
  });

  it("reports a refused client key (ZAP 400) as auth-failure and comes back once it is allowed", async () => {
    const { server, subscriber, clientKeys } = await setup({ allowed: "none" });
    subscriber.start();
    const failure = await once<AuthFailure>(subscriber, "auth-failure", 10_000);
    expect(failure.event).toBe("handshake:error:auth");
    expect(subscriber.isConnected).toBe(false);
    // the operator fixes the allow-list; libzmq alone would never try again
    server.allowed!.add(clientKeys.publicKey);
    await once(subscriber, "connected", 10_000);
    await server.waitFor((r) => r.text.startsWith("hello "), 15_000, "hello after the fix");
  });
});

describe("Subscriber against a wire-v2 osad2 server (SUB + DEALER)", () => {
  it("asks for v3, gets no answer, and speaks v2: hello-request 2, a signed v2 hello, checkins on the SUB", async () => {
    const sharedKey = "0123456789abcdef0123456789abcdef01234567";
    const { server, subscriber, events } = await setup({
      allowed: "client",
      v2: true,
      sharedKey,
      challengeTimeoutMs: 300,
    });
    subscriber.start();
    const hello = await server.waitFor((r) => r.text.startsWith("hello "), 15_000, "v2 hello");
    const texts = server.received.map((r) => r.text);
    expect(texts.indexOf("hello-request 3")).toBeGreaterThanOrEqual(0);
    expect(texts.indexOf("hello-request 2")).toBeGreaterThan(texts.indexOf("hello-request 3"));
    const decoded = decodeListenerMessage(Buffer.from(hello.text));
    expect(decoded).toMatchObject({ kind: "hello", hello: { version: 2, clientName: NAME } });
    if (decoded.kind !== "hello" || decoded.hello.signature === undefined)
      throw new Error("unsigned");
    const { nonce, mac } = decoded.hello.signature;
    expect(verifySignature(sharedKey, "hello", NAME, nonce, mac)).toBe(true);
    expect(subscriber.wireMode).toBe("signed");
    // Its SUB is subscribed: a checkin published on the PUB reaches it.
    for (let i = 0; !events.includes("checkin"); i++) {
      if (i > 200) throw new Error("no checkin over the SUB");
      await server.publish(`system:${NAME} checkin`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("with several servers listed, talks only to the bound one (ZMQ_IMMEDIATE) and falls back to v2 with it alone", async () => {
    const sharedKey = "0123456789abcdef0123456789abcdef01234567";
    // The first listed server is down (a standby binds nothing): nothing may be queued for it.
    const down = `tcp://127.0.0.1:${await freePort()}`;
    const serverKeys = generateKeyPair();
    const clientKeys = generateKeyPair();
    const server = await SeedServer.start({
      keyPair: serverKeys,
      allowed: new Set([clientKeys.publicKey]),
      v2: true,
    });
    servers.push(server);
    const modes: string[] = [];
    const subscriber = new Subscriber({
      clientName: NAME,
      sharedKey,
      challengeTimeoutMs: 300,
      publisherEndpoint: "tcp://127.0.0.1:1",
      listenerEndpoint: down,
      servers: [
        { publisherEndpoint: "tcp://127.0.0.1:1", listenerEndpoint: down },
        { publisherEndpoint: server.publisherEndpoint, listenerEndpoint: server.listenerEndpoint },
      ],
      serverPublicKey: serverKeys.publicKey,
      clientKeyPair: clientKeys,
      reconnectIntervalMs: 100,
      reconnectMaxIntervalMs: 2_000,
    });
    subscribers.push(subscriber);
    subscriber.on("wire-mode", ({ mode }) => modes.push(mode));
    const connected = once<{ listenerEndpoint: string }>(subscriber, "connected", 10_000);
    subscriber.start();
    expect((await connected).listenerEndpoint).toBe(server.listenerEndpoint);
    // Every hello-request reached the live server (none was lost to the one that is down),
    // and the v2 fallback kept talking to it: its SUB is on that server's PUB.
    const hello = await server.waitFor((r) => r.text.startsWith("hello "), 15_000, "v2 hello");
    expect(decodeListenerMessage(Buffer.from(hello.text))).toMatchObject({ kind: "hello" });
    const texts = server.received.map((r) => r.text);
    expect(texts.filter((t) => t === "hello-request 3").length).toBeGreaterThanOrEqual(1);
    expect(texts).toContain("hello-request 2");
    expect(modes).toEqual(["signed"]);
    const checkin = new Promise<void>((resolve) => subscriber.once("checkin", () => resolve()));
    for (let i = 0, got = false; !got; i++) {
      if (i > 200) throw new Error("no checkin over the SUB");
      await server.publish(`system:${NAME} checkin`);
      got = await Promise.race([
        checkin.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 50)),
      ]);
    }
  });
});

describe("Subscriber against a busy wire-v3 server", () => {
  it("after `refused busy` asks for a new challenge 2–6 s later, not at once and not never", async () => {
    const sharedKey = "0123456789abcdef0123456789abcdef01234567";
    const { server, subscriber } = await setup({ allowed: "client", v3RefuseBusy: 1, sharedKey });
    subscriber.start();
    const first = await server.waitFor((r) => r.text.startsWith("hello "), 15_000, "first hello");
    const refusedAt = Date.now();
    const second = await server.waitFor(
      (r) => r.text.startsWith("hello ") && r !== first,
      15_000,
      "a hello after the busy refusal",
    );
    const waitedMs = Date.now() - refusedAt;
    expect(waitedMs).toBeGreaterThanOrEqual(1_900);
    expect(waitedMs).toBeLessThan(8_000);
    const texts = server.received.map((r) => r.text);
    expect(texts.filter((t) => t === "hello-request 3")).toHaveLength(2);
    expect(decodeListenerMessage(Buffer.from(second.text))).toMatchObject({
      kind: "hello",
      hello: { version: 3, clientName: NAME },
    });
    expect(subscriber.wireMode).toBe("connection");
  });
});
