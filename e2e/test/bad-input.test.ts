// Bad input never crashes the server and writes nothing: 10,000 malformed frames on each
// socket, raw garbage on the TCP ports and 1,000 malformed XML-RPC requests; afterwards a
// well-behaved client is still served.
import fs from "node:fs/promises";
import net from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { certificateLayout, generateKeyPair, KeyStore, readPublicKey } from "@osad2/keys";
import { encodeHello } from "@osad2/protocol";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

let d: Deployment;
let serverKey: string;
const attacker = generateKeyPair();

beforeAll(async () => {
  d = await Deployment.launch({ database: "sqlite" }, ["good"]);
  d.emulateSpacewalk();
  serverKey = await readPublicKey(certificateLayout(d.certificates).serverPublicPath);
  // The attacker holds a valid key: the worst case, past CURVE and ZAP.
  const keys = await KeyStore.open(d.certificates);
  await keys.add("attacker", attacker.publicKey);
  await keys.close();
});
afterAll(async () => {
  await d?.dispose();
});

function garbageFrames(i: number): Buffer[] {
  switch (i % 6) {
    case 0:
      return [randomBytes(1 + (i % 200))];
    case 1:
      return [Buffer.from("ping"), Buffer.from("two frames")];
    case 2:
      return [Buffer.from(`hello {"v":${i},"name":"x y"}`)];
    case 3:
      return [Buffer.from([0xff, 0xfe, 0x20, 0x00])];
    case 4:
      return [Buffer.from("system:good checkin")];
    default:
      return [Buffer.from(`ping ${"t".repeat(300)}`)];
  }
}

async function rawGarbage(port: number, connections: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: connections },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, "127.0.0.1", () => {
            socket.end(
              i % 2
                ? randomBytes(4096)
                : Buffer.from("\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7fGARBAGE"),
            );
          });
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          socket.setTimeout(3000, () => socket.destroy());
        }),
    ),
  );
}

/** osad2_malformed_messages_total{reason} from the server's /metrics (0 when absent). */
async function malformedCount(reason: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${d.ports.metrics}/metrics`);
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith(`osad2_malformed_messages_total{reason="${reason}"} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

/** osad2_refused_messages_total{reason} from the server's /metrics (0 when absent). */
async function refusedCount(reason: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${d.ports.metrics}/metrics`);
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith(`osad2_refused_messages_total{reason="${reason}"} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

async function xmlrpcPost(body: Buffer | string, contentType = "text/xml"): Promise<number> {
  try {
    const res = await fetch(d.registrationUrl, {
      method: "POST",
      body,
      headers: { "content-type": contentType },
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return -1; // a refused huge body closes the connection: fine, as long as the server lives
  }
}

function call(method: string, params: string): string {
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
}

describe("bad input", () => {
  it("survives 10,000 malformed frames on the ROUTER and 10,000 on the PUB, plus raw TCP garbage", async () => {
    const dealer = new zmq.Dealer({
      curveServerKey: serverKey,
      curvePublicKey: attacker.publicKey,
      curveSecretKey: attacker.secretKey,
      routingId: "good", // impersonating a client name must not make it "online" with garbage
      linger: 0,
      sendHighWaterMark: 20_000,
    });
    dealer.connect(`tcp://127.0.0.1:${d.ports.listener}`);
    for (let i = 0; i < 10_000; i++) await dealer.send(garbageFrames(i));
    // Last on the same connection, a well-formed unsigned hello: once the server has counted
    // it as refused (allow_unsigned_clients = 0; no garbage frame is one), it has read every frame.
    await dealer.send(
      encodeHello({ clientName: "sentinel", software: "bad-input", lastRun: null }),
    );

    // XSUB sends raw subscription frames to the PUB: malformed ones must be ignored.
    const xsub = new zmq.XSubscriber({
      curveServerKey: serverKey,
      curvePublicKey: attacker.publicKey,
      curveSecretKey: attacker.secretKey,
      linger: 0,
      sendHighWaterMark: 20_000,
      receiveTimeout: 60_000,
    });
    xsub.connect(`tcp://127.0.0.1:${d.ports.publisher}`);
    for (let i = 0; i < 10_000; i++) await xsub.send(garbageFrames(i));
    // Then a real subscription: a ping arriving through it means the PUB got past the garbage.
    await xsub.send(Buffer.from("\x01ping"));

    await rawGarbage(d.ports.listener, 50);
    await rawGarbage(d.ports.publisher, 50);
    await waitFor(
      "the server to count the sentinel hello",
      async () => (await refusedCount("unsigned")) >= 1,
      { timeoutMs: 60_000, everyMs: 200 },
    );
    // Every two-frame message (i % 6 === 1) was read and counted, none lost to a queue limit.
    expect(await malformedCount("frame-count")).toBe(1667);
    const [ping] = await xsub.receive();
    expect(ping?.toString()).toMatch(/^ping /);
    dealer.close();
    xsub.close();
    expect(d.server?.child.exitCode).toBe(null);
  });

  it("answers 1,000 malformed XML-RPC requests without crashing or writing a row", async () => {
    const before = await d.sql<{ n: number }>("SELECT count(*) AS n FROM rhnpushclient");
    const systemsBefore = await d.sql<{ n: number }>("SELECT count(*) AS n FROM rhnserver");
    const genuine = await fs.readFile(d.systems.get("good")!.systemidPath, "utf8");
    // Same document, last 8 hex digits of the checksum changed: a forgery.
    const forgedXml = genuine.replace(
      /(<name>checksum<\/name>\s*<value>(?:<string>)?[0-9a-f]+?)[0-9a-f]{8}</,
      (_m, head: string) => `${head}00000000<`,
    );
    expect(forgedXml).not.toBe(genuine);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      let status: number;
      switch (i % 8) {
        case 0:
          status = await xmlrpcPost(randomBytes(64 + (i % 500)));
          break;
        case 1:
          status = await xmlrpcPost(
            call("registration.register_osad", "<param><value><int>7</int></value></param>"),
          );
          break;
        case 2:
          status = await xmlrpcPost(call("registration.no_such_method", ""));
          break;
        case 3:
          status = await xmlrpcPost(
            call(
              "registration.register_osad",
              `<param><value><string>${forgedXml.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</string></value></param><param><value><struct></struct></value></param>`,
            ),
          );
          break;
        case 4:
          status =
            i % 64 === 4
              ? await xmlrpcPost(Buffer.alloc(3 * 1024 * 1024, 0x41))
              : await xmlrpcPost("<methodCall><methodName>");
          break;
        case 5:
          status = await xmlrpcPost(
            call(
              "registration.register_osad",
              `<param><value><string>not a systemid</string></value></param><param><value><struct></struct></value></param>`,
            ),
          );
          break;
        case 6:
          status = await xmlrpcPost(
            call(
              "registration.register_osad_jid",
              "<param><value><array><data/></array></value></param>",
            ),
          );
          break;
        default:
          status = await xmlrpcPost(
            `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><methodCall><methodName>&a;</methodName></methodCall>`,
          );
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    // Faults come back as HTTP 200 with a <fault>; never a 5xx from a crashed handler.
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(d.server?.child.exitCode).toBe(null);
    expect(await d.sql("SELECT count(*) AS n FROM rhnpushclient")).toEqual(before);
    expect(await d.sql("SELECT count(*) AS n FROM rhnserver")).toEqual(systemsBefore);
  });

  it("still serves the well-behaved client afterwards", async () => {
    const before = (await d.runs()).length;
    await d.schedule(["good"]);
    await waitFor("good's run", async () =>
      (await d.runs()).slice(before).some((r) => r.label === "good"),
    );
    expect((await d.pushClient("good"))?.state).toBe("online");
  });
});
