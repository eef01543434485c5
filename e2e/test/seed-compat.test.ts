// A seed-style client built directly on zeromq (not @osad2/client), doing what SUSE's
// spacewalk-osad2 client did: register_osad over XML-RPC, SUB to "system:<name>" and "ping"
// without osad2's exact-topic space, echo pings over a DEALER. Our server must serve it.
import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import xmlrpc from "xmlrpc";
import * as zmq from "zeromq";
import { certificateLayout, readPublicKey } from "@osad2/keys";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

let d: Deployment;
/** A server with the default allow_unsigned_clients = 0. */
let strict: Deployment;
const sockets: Array<zmq.Subscriber | zmq.Dealer> = [];

function registerOsad(url: string, systemid: string): Promise<Record<string, unknown>> {
  const client = xmlrpc.createClient(url);
  return new Promise((resolve, reject) =>
    client.methodCall(
      "registration.register_osad",
      [systemid, { "client-timestamp": Math.floor(Date.now() / 1000) }],
      (error: unknown, value: unknown) =>
        error ? reject(error) : resolve(value as Record<string, unknown>),
    ),
  );
}

beforeAll(async () => {
  // The seed's unsigned format is accepted only when the operator allows it.
  d = await Deployment.create({
    database: "postgres",
    serverConfig: { allow_unsigned_clients: 1 },
  });
  await d.init();
  await d.addSystem("seed");
  await d.startServer();
  strict = await Deployment.create({ database: "sqlite" });
  await strict.init();
  await strict.addSystem("seed");
  await strict.startServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await d?.dispose();
  await strict?.dispose();
});

/** Registers the deployment's "seed" system and connects it the seed's way; echoes every ping. */
async function connectSeedClient(
  deployment: Deployment,
): Promise<{ name: string; received: string[]; replies: string[]; pongs: () => number }> {
  const system = deployment.systems.get("seed")!;
  const reply = await registerOsad(
    deployment.registrationUrl,
    await fs.readFile(system.systemidPath, "utf8"),
  );
  const name = reply["client-name"] as string;
  const curve = {
    curveServerKey: await readPublicKey(
      certificateLayout(deployment.certificates).serverPublicPath,
    ),
    curvePublicKey: system.keyPair.publicKey,
    curveSecretKey: system.keyPair.secretKey,
    linger: 0,
  };
  const sub = new zmq.Subscriber(curve);
  const dealer = new zmq.Dealer({ ...curve, routingId: name });
  sockets.push(sub, dealer);
  sub.connect(`tcp://127.0.0.1:${deployment.ports.publisher}`);
  sub.subscribe(`system:${name}`, "ping");
  dealer.connect(`tcp://127.0.0.1:${deployment.ports.listener}`);
  const received: string[] = [];
  const replies: string[] = [];
  let pongs = 0;
  void (async () => {
    for await (const [frame] of sub) {
      const text = frame!.toString();
      received.push(text);
      if (text.startsWith("ping ")) {
        await dealer.send(text); // the seed echoes the ping verbatim
        pongs += 1;
      }
    }
  })().catch(() => undefined);
  void (async () => {
    for await (const [frame] of dealer) replies.push(frame!.toString());
  })().catch(() => undefined);
  return { name, received, replies, pongs: () => pongs };
}

describe("a seed-style client without allow_unsigned_clients", () => {
  it("changes nothing with its unsigned pongs and is told so", async () => {
    const client = await connectSeedClient(strict);
    await waitFor("3 pongs sent", () => client.pongs() >= 3);
    await waitFor("the server's refusal", () => client.replies.includes("refused unsigned"));
    // Pongs travel in order on one connection: by the refusal of a later one, the first three were read.
    const sent = client.pongs();
    await waitFor("refusals of every pong", () => client.replies.length >= sent);
    expect((await strict.pushClient("seed"))?.state).toBe("offline");
    expect(client.replies.every((r) => r === "refused unsigned")).toBe(true);
  });
});

describe("a seed-style client", () => {
  it("registers, answers pings (goes online) and receives its checkin in the seed format", async () => {
    const system = d.systems.get("seed")!;
    const reply = await registerOsad(
      d.registrationUrl,
      await fs.readFile(system.systemidPath, "utf8"),
    );
    const name = reply["client-name"] as string;
    expect(name).toMatch(/^[0-9a-f]{16}$/);
    expect(reply["shared-key"]).toMatch(/^[0-9a-f]{40}$/);
    expect(typeof reply["server-timestamp"]).toBe("number");
    expect(reply["jabber-server"]).toBe("127.0.0.1");

    const curve = {
      curveServerKey: await readPublicKey(certificateLayout(d.certificates).serverPublicPath),
      curvePublicKey: system.keyPair.publicKey,
      curveSecretKey: system.keyPair.secretKey,
      linger: 0,
    };
    const sub = new zmq.Subscriber(curve);
    const dealer = new zmq.Dealer({ ...curve, routingId: name });
    sockets.push(sub, dealer);
    sub.connect(`tcp://127.0.0.1:${d.ports.publisher}`);
    sub.subscribe(`system:${name}`, "ping");
    dealer.connect(`tcp://127.0.0.1:${d.ports.listener}`);

    const received: string[] = [];
    void (async () => {
      for await (const [frame] of sub) {
        const text = frame!.toString();
        received.push(text);
        if (text.startsWith("ping ")) await dealer.send(text); // the seed echoes the ping verbatim
      }
    })().catch(() => undefined);

    await waitFor("a ping", () => received.some((t) => /^ping \S+$/.test(t)));
    await d.waitOnline("seed");
    await d.schedule(["seed"]);
    await waitFor("the checkin", () => received.includes(`system:${name} checkin`));
  });
});
