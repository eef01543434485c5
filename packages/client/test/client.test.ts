import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, writeCertificate } from "@osad2/keys";
import { decodeListenerMessage } from "@osad2/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ClientEvents,
  type OsadClient,
  KeyConfigError,
  createClient,
  readStateFile,
} from "../src/index.js";
import { cleanupTempDirs, readRunLog } from "./helpers.js";
import { type World, disposeWorlds, makeWorld } from "./world.js";
import { systemIdXml } from "./xmlrpc-server.js";

const clients: OsadClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop(0)));
  await disposeWorlds();
  await cleanupTempDirs();
});

async function started(world: World, overrides = {}): Promise<OsadClient> {
  const client = createClient(await world.config(overrides), {
    reconnectIntervalMs: 100,
    reconnectMaxIntervalMs: 1_000,
    retryDelayMs: 100,
    systemidPollMs: 1_000,
  });
  clients.push(client);
  await client.start();
  return client;
}

function next<K extends keyof ClientEvents>(
  client: OsadClient,
  event: K,
  ms = 10_000,
): Promise<ClientEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    client.once(event, ((value: ClientEvents[K][0]) => {
      clearTimeout(timer);
      resolve(value);
    }) as never);
  });
}

describe("createClient against a seed-style server", () => {
  it("registers, connects, says hello, and runs rhn_check exactly once per checkin", async () => {
    const world = await makeWorld();
    const events: string[] = [];
    const client = createClient(await world.config(), { reconnectIntervalMs: 100 });
    clients.push(client);
    for (const e of [
      "registered",
      "connected",
      "checkin",
      "run",
      "disconnected",
      "auth-failure",
    ] as const) {
      client.on(e, () => events.push(e));
    }
    const connected = next(client, "connected");
    await client.start();
    await connected;
    const name = world.names[0]!;
    expect(client.status()).toMatchObject({
      state: "connected",
      registration: {
        clientName: name,
        serverKeySource: "file",
        publisherEndpoint: world.seed.publisherEndpoint,
      },
      connection: { connected: true, authFailures: 0 },
      lastRun: null,
    });
    const hello = await world.seed.waitFor((r) => r.text.startsWith("hello "), 15_000, "hello");
    expect(hello.routingId).toBe(name);
    expect(decodeListenerMessage(Buffer.from(hello.text))).toMatchObject({
      kind: "hello",
      hello: { clientName: name, lastRun: null },
    });
    await world.seed.pingUntilAnswered();

    const ran = next(client, "run");
    const asked = Date.now();
    await world.seed.publish(`system:${name} checkin`);
    const run = await ran;
    expect(run).toMatchObject({ trigger: "checkin", exitCode: 0 });
    // This checkin's run (not one from start-up): it started after the checkin was sent.
    expect(run.startedAt).toBeGreaterThanOrEqual(asked);
    await world.seed.publish(`system:${name}x checkin`);
    await world.seed.publish("ping after");
    // The client handles SUB messages in order and emits "checkin" as it reads one, so by the
    // pong to "ping after" a wrongly accepted `<name>x` checkin would already be in `events`.
    await world.seed.waitFor((r) => r.text === "ping after", 15_000, "pong");
    const log = await readRunLog(world.runlog);
    expect(log.filter((l) => l.kind === "start").map((l) => l.args)).toEqual(["--from-osad2"]);
    expect(events).toEqual(["registered", "connected", "checkin", "run"]);

    await client.stop(5_000);
    const state = await readStateFile(join(world.dir, "state", "state.json"));
    expect(state).toMatchObject({
      state: "stopped",
      pid: process.pid,
      registration: { clientName: name },
      lastRun: { trigger: "checkin", exitCode: 0, timedOut: false },
    });
  });

  it("runs rhn_check once at start when run_at_start is on, before any server is reachable", async () => {
    const world = await makeWorld();
    await world.xmlrpc.close(); // registration keeps failing
    const client = createClient(await world.config({ run_at_start: "1" }), { retryDelayMs: 100 });
    clients.push(client);
    const failed = next(client, "registration-failed");
    const ran = next(client, "run");
    await client.start();
    expect((await ran).trigger).toBe("start");
    expect((await failed).error.message).toContain("ECONNREFUSED");
    expect(client.status().state).toBe("registering");
    expect(client.status().lastRegistrationError?.message).toContain("ECONNREFUSED");
  });

  it("uses the reply's server key when no server key file exists, and the file's when it does", async () => {
    const fromReply = await makeWorld({ serverKeyFile: null });
    const c1 = await started(fromReply);
    await next(c1, "connected");
    expect(c1.status().registration?.serverKeySource).toBe("reply");

    const fileWins = await makeWorld({ replyKey: generateKeyPair().publicKey });
    const c2 = await started(fileWins);
    await next(c2, "connected");
    expect(c2.status().registration?.serverKeySource).toBe("file");
  });

  it("a wrong server key: auth-failure, logged, nothing run, and no tight retry loop", async () => {
    const world = await makeWorld({ serverKeyFile: generateKeyPair().publicKey });
    const client = await started(world);
    const failures: number[] = [];
    client.on("auth-failure", (f) => failures.push(f.retryInMs));
    await next(client, "auth-failure");
    await next(client, "auth-failure");
    await world.seed.publish(`system:${world.names[0]} checkin`).catch(() => undefined);
    expect(client.status()).toMatchObject({
      state: "auth-failure",
      connection: { connected: false },
    });
    expect(client.status().connection.authFailures).toBeGreaterThanOrEqual(2);
    expect(failures[1]!).toBeGreaterThan(failures[0]!);
    expect(await readRunLog(world.runlog)).toEqual([]);
    expect(world.seed.received).toEqual([]);
  });

  it("a client key the server does not allow: auth-failure and nothing run", async () => {
    const world = await makeWorld({ clientNotAllowed: true });
    const client = await started(world);
    const failure = await next(client, "auth-failure");
    expect(failure.event).toBe("handshake:error:auth");
    expect(await readRunLog(world.runlog)).toEqual([]);
  });

  it("registers again under a new name when the systemid changes, and follows only that name", async () => {
    const world = await makeWorld();
    const client = await started(world);
    await next(client, "connected");
    const registered = next(client, "registered");
    const reconnected = new Promise<void>((resolve) =>
      client.on("connected", () => {
        if (client.status().registration?.clientName === world.names[1]) resolve();
      }),
    );
    await writeFile(world.systemidPath, systemIdXml(1000010099));
    expect((await registered).clientName).toBe(world.names[1]);
    await reconnected;
    await world.seed.waitFor(
      (r) => r.routingId === world.names[1] && r.text.startsWith("hello "),
      15_000,
      "hello under the new name",
    );
    await world.seed.pingUntilAnswered();
    const ran = next(client, "run");
    await world.seed.publish(`system:${world.names[0]} checkin`); // old name: not ours any more
    await world.seed.publish(`system:${world.names[1]} checkin`);
    await ran;
    await world.seed.publish("ping end");
    await world.seed.waitFor((r) => r.text === "ping end", 15_000, "pong");
    expect((await readRunLog(world.runlog)).filter((l) => l.kind === "start")).toHaveLength(1);
  });

  it("reload: a replaced client key reconnects under the same name, without register_osad", async () => {
    const world = await makeWorld();
    const client = await started(world);
    await next(client, "connected");
    const replacement = generateKeyPair();
    world.seed.allowed?.add(replacement.publicKey);
    await writeCertificate(join(world.dir, "certs", "client.key_secret"), replacement);
    const reconnected = next(client, "connected");
    await client.reload(await world.config());
    await reconnected;
    await world.seed.pingUntilAnswered();
    expect(world.xmlrpc.calls).toHaveLength(1);
    expect(client.status().registration?.clientName).toBe(world.names[0]);
    // The unchanged config again: nothing to do, the connection stays.
    let events = 0;
    client.on("connected", () => (events += 1));
    client.on("disconnected", () => (events += 1));
    await client.reload(await world.config());
    await world.seed.pingUntilAnswered();
    expect(events).toBe(0);
    expect(world.xmlrpc.calls).toHaveLength(1);
  });

  it("stop() closes the sockets but lets a running rhn_check finish", async () => {
    const world = await makeWorld({ osad: { run_at_start: "1" } });
    const client = createClient(await world.config(), {});
    clients.push(client);
    process.env.SLEEP = "0.5";
    try {
      await client.start();
      expect(client.status().running).toBe(true);
      await client.stop(5_000);
    } finally {
      delete process.env.SLEEP;
    }
    const log = await readRunLog(world.runlog);
    expect(log.map((l) => l.kind)).toEqual(["start", "end"]);
    expect(client.status()).toMatchObject({
      state: "stopped",
      running: false,
      lastRun: { exitCode: 0 },
    });
  });

  it("refuses to start with a secret key others can read", async () => {
    const world = await makeWorld();
    const { chmod } = await import("node:fs/promises");
    await chmod(join(world.dir, "certs", "client.key_secret"), 0o640);
    const client = createClient(await world.config());
    const error = await client.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyConfigError);
    expect((error as Error).message).toContain("chmod 600");
    await rm(join(world.dir, "certs", "client.key_secret"));
    const missing = await createClient(await world.config())
      .start()
      .catch((e: unknown) => e);
    expect((missing as KeyConfigError).reason).toBe("missing");
  });
});
