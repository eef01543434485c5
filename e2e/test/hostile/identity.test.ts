// Issue 10 rows 2-5: one system speaking for another. The attacker holds an ALLOWED key (past
// CURVE and ZAP) and knows other systems' client names (row 5: a subscriber to "" sees them
// all); what it lacks is their shared key. Against the real server process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerOsad } from "@osad2/client";
import {
  encodeHello,
  encodeHelloRequest,
  encodePong,
  encodeSignedHello,
  encodeSignedPong,
} from "@osad2/protocol";
import { generateKeyPair } from "@osad2/keys";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";
import { Peer, allowedCurve, metric } from "./identity-tools.js";

let d: Deployment;
const peers: Peer[] = [];
const forgedKey = "0".repeat(40);

beforeAll(async () => {
  // Short intervals: offline after 3 missed pings of 0.5 s.
  d = await Deployment.create({ database: "sqlite", pingInterval: 0.5 });
  await d.init();
  for (const label of ["victim", "real", "flapper"]) await d.addSystem(label);
  await d.startServer();
});
afterAll(async () => {
  for (const p of peers) p.close();
  await d?.dispose();
});

function peer(curve: Awaited<ReturnType<typeof allowedCurve>>, routingId?: string): Peer {
  const p = new Peer(curve, d.ports, routingId);
  peers.push(p);
  return p;
}

const refused = (reason: string) => metric(d, "osad2_refused_messages_total", `reason="${reason}"`);

describe("identity", () => {
  it("forged hellos and pongs for an offline system's name change nothing and bring the attacker no checkin", async () => {
    const victim = d.systems.get("victim")!;
    const { clientName: name } = await registerOsad({
      serverUrl: d.registrationUrl,
      systemidPath: victim.systemidPath,
    });
    await d.schedule(["victim"]);
    const attacker = peer(await allowedCurve(d, "attacker1"), name);
    await waitFor("two pings seen by the attacker", () => attacker.tokens.length >= 2);
    const unsignedBefore = await refused("unsigned");
    const badBefore = await refused("bad-signature");
    // The landed attack: an unsigned hello and ping echoes with the victim's routing id...
    await attacker.send(encodeHello({ clientName: name, software: "x", lastRun: null }));
    for (const token of attacker.tokens.slice(-2)) await attacker.send(encodePong(token));
    // ...and the signed format with a key that is not the victim's.
    for (const token of attacker.tokens.slice(-2))
      await attacker.send(encodeSignedPong(name, token, forgedKey));
    await attacker.send(encodeHelloRequest());
    await waitFor("a challenge", () => attacker.replies.some((r) => r.kind === "challenge"));
    const challenge = attacker.replies.find((r) => r.kind === "challenge");
    if (challenge?.kind !== "challenge") throw new Error("no challenge");
    await attacker.send(
      encodeSignedHello(
        { clientName: name, software: "x", lastRun: null },
        challenge.nonce,
        forgedKey,
      ),
    );
    await waitFor("every forgery refused", async () => {
      const unsigned = (await refused("unsigned")) - unsignedBefore;
      const bad = (await refused("bad-signature")) - badBefore;
      return unsigned >= 3 && bad >= 3;
    });
    // Pings and checkins share the PUB connection in order: 4 more pings and nothing for the
    // victim means nothing was published for it.
    const seen = attacker.tokens.length;
    await waitFor("4 more pings", () => attacker.tokens.length >= seen + 4);
    expect((await d.pushClient("victim"))?.state).toBe("offline");
    expect(attacker.published.filter((t) => t.startsWith(`system:${name}`))).toEqual([]);
    expect(attacker.replies.filter((r) => r.kind === "unknown-client")).toHaveLength(3);
  });

  it("a connection using an online system's name as its routing id does not take it offline", async () => {
    d.startClient("real");
    const name = await d.waitOnline("real");
    const curve = await allowedCurve(d, "attacker2");
    const before = await refused("unsigned");
    // Row 3's attack, three times: connect with the victim's routing id, echo a ping, leave.
    for (let i = 0; i < 3; i++) {
      const attacker = peer(curve, name);
      await waitFor("a ping", () => attacker.tokens.length >= 1);
      await attacker.send(encodePong(attacker.tokens.at(-1)!));
      await waitFor("the echo refused", async () => (await refused("unsigned")) >= before + i + 1);
      attacker.close();
    }
    // Well past missed_pings (3) rounds: an orphaned DEALER would have gone offline by now.
    await d.pingRounds("real", 8);
    expect((await d.pushClient("real"))?.state).toBe("online");
    expect((await d.pushClient("real"))?.name).toBe(name);
    await d.schedule(["real"]);
    await waitFor("the real client's rhn_check", async () =>
      (await d.runs()).some((r) => r.label === "real"),
    );
  });

  it("a failed handshake is logged with the peer's address, not the server's endpoint", async () => {
    const curve = await allowedCurve(d, "wrong-server-key");
    // A client with an allowed key but the wrong server key: CURVE fails before ZAP is asked.
    const wrong = peer({ ...curve, curveServerKey: generateKeyPair().publicKey });
    const refusedLine = await waitFor("a refused handshake in the server's log", () =>
      d.server!.matching(/"reason":"handshake"/).at(-1),
    );
    wrong.close();
    const line = JSON.parse(refusedLine) as { address: string; endpoint: string; peers: string[] };
    expect(line.address).toBe("127.0.0.1");
    expect(line.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(line.peers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("67 hellos in a few seconds run rhn_check at most once more (renotify_interval 60 s)", async () => {
    const flapper = d.systems.get("flapper")!;
    const { clientName: name, sharedKey } = await registerOsad({
      serverUrl: d.registrationUrl,
      systemidPath: flapper.systemidPath,
    });
    if (sharedKey === undefined) throw new Error("no shared key");
    await d.schedule(["flapper"]);
    // The flapper itself: a signed client that keeps saying hello.
    const own = peer(await allowedCurve(d, "flapper-key"));
    const hello = async (): Promise<void> => {
      const asked = own.replies.length;
      await own.send(encodeHelloRequest());
      await waitFor("a challenge", () => own.replies.length > asked);
      const reply = own.replies.at(-1);
      if (reply?.kind !== "challenge") throw new Error(`got ${reply?.kind}`);
      await own.send(
        encodeSignedHello(
          { clientName: name, software: "x", lastRun: null },
          reply.nonce,
          sharedKey,
        ),
      );
    };
    const answer = setInterval(() => {
      const token = own.tokens.at(-1);
      if (token !== undefined)
        void own.send(encodeSignedPong(name, token, sharedKey)).catch(() => undefined);
    }, 200);
    try {
      await hello();
      await d.waitOnline("flapper");
      const checkins = () => own.published.filter((t) => t === `system:${name} checkin`).length;
      await waitFor("the first checkin", () => checkins() >= 1);
      // An attacker's unsigned hellos as the flapper, and the flapper's own signed ones.
      const attacker = peer(await allowedCurve(d, "attacker3"), name);
      for (let i = 0; i < 67; i++) {
        await attacker.send(encodeHello({ clientName: name, software: "x", lastRun: null }));
        await hello();
      }
      const seen = own.tokens.length;
      await waitFor("4 more pings", () => own.tokens.length >= seen + 4);
      expect(checkins()).toBeLessThanOrEqual(2);
    } finally {
      clearInterval(answer);
    }
  });
});
