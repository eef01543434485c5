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
  d = await Deployment.create({ database: "postgres" });
  await d.init();
  await d.addSystem("seed");
  await d.startServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await d?.dispose();
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
