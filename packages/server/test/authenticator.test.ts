import { describe, expect, it } from "vitest";
import {
  decodeServerReply,
  encodeGoodbye,
  encodeHello,
  encodeHelloRequest,
  encodePong,
  encodeSignedHello,
  encodeSignedPong,
  decodeListenerMessage,
  type ServerReply,
} from "@osad2/protocol";
import {
  ClientAuthenticator,
  type AuthenticatedHandler,
  type IdentityReport,
  type Refusal,
} from "../src/presence/authenticator.js";
import { SharedKeyCache } from "../src/presence/shared-keys.js";
import { Reachability } from "../src/dispatch/reachability.js";
import { OnlineClients } from "../src/presence/online-clients.js";
import { recordingLogger } from "./fakes.js";

const KEYS = new Map([
  ["alice", "a".repeat(40)],
  ["bob", "b".repeat(40)],
]);

class World implements AuthenticatedHandler, IdentityReport {
  readonly accepted: string[] = [];
  readonly refusals: Refusal[] = [];
  readonly replies: { to: string; reply: ServerReply }[] = [];
  readonly tokens = new Set(["t1"]);
  lookups = 0;
  readonly auth: ClientAuthenticator;

  constructor(allowUnsigned = false) {
    this.auth = new ClientAuthenticator({
      allowUnsigned,
      keys: new SharedKeyCache({
        source: {
          sharedKeyOf: async (name) => {
            this.lookups += 1;
            return KEYS.get(name);
          },
        },
      }),
      tokens: { isRecentPing: (token) => this.tokens.has(token) },
      replies: {
        reply: (routingId, frame) =>
          this.replies.push({ to: routingId.toString(), reply: decodeServerReply(frame) }),
      },
      handler: this,
      report: this,
      logger: recordingLogger().logger,
    });
  }

  pong(clientName: string): void {
    this.accepted.push(`pong ${clientName}`);
  }
  hello(clientName: string): void {
    this.accepted.push(`hello ${clientName}`);
  }
  goodbye(clientName: string): void {
    this.accepted.push(`goodbye ${clientName}`);
  }
  refused(refusal: Refusal): void {
    this.refusals.push(refusal);
  }

  send(routingId: string, frame: Buffer): Promise<void> {
    this.auth.received(Buffer.from(routingId), decodeListenerMessage(frame));
    return new Promise((resolve) => setTimeout(resolve, 5));
  }

  challengeFor(routingId: string): string {
    const last = this.replies.filter((r) => r.to === routingId).at(-1)?.reply;
    if (last?.kind !== "challenge") throw new Error("no challenge");
    return last.nonce;
  }
}

const hello = (name: string) => ({ clientName: name, software: "t", lastRun: null });

describe("ClientAuthenticator", () => {
  it("a hello signed over this connection's challenge is accepted once", async () => {
    const w = new World();
    await w.send("conn1", encodeHelloRequest());
    const nonce = w.challengeFor("conn1");
    const frame = encodeSignedHello(hello("alice"), nonce, KEYS.get("alice") as string);
    await w.send("conn1", frame);
    expect(w.accepted).toEqual(["hello alice"]);
    // Replayed: the challenge was used up.
    await w.send("conn1", frame);
    // Another connection's challenge does not do either.
    await w.send("conn2", encodeHelloRequest());
    await w.send("conn2", frame);
    expect(w.accepted).toEqual(["hello alice"]);
    expect(w.refusals.map((r) => r.reason)).toEqual(["stale-nonce", "stale-nonce"]);
    expect(w.replies.at(-1)).toEqual({
      to: "conn2",
      reply: { kind: "refused", reason: "stale-nonce" },
    });
  });

  it("a forged signature or an unknown name changes nothing and is answered unknown-client", async () => {
    const w = new World();
    await w.send("mallory", encodeSignedPong("bob", "t1", KEYS.get("alice") as string));
    await w.send("mallory", encodeSignedPong("carol", "t1", "c".repeat(40)));
    await w.send("mallory", encodeHelloRequest());
    const nonce = w.challengeFor("mallory");
    await w.send("mallory", encodeSignedHello(hello("bob"), nonce, "x".repeat(40)));
    expect(w.accepted).toEqual([]);
    expect(w.refusals.map((r) => [r.reason, r.clientName])).toEqual([
      ["bad-signature", "bob"],
      ["unknown-client", "carol"],
      ["bad-signature", "bob"],
    ]);
    expect(w.replies.filter((r) => r.reply.kind === "unknown-client").map((r) => r.to)).toEqual([
      "mallory",
      "mallory",
      "mallory",
    ]);
  });

  it("a pong must answer a recent ping; keys are cached", async () => {
    const w = new World();
    await w.send("c", encodeSignedPong("alice", "t1", KEYS.get("alice") as string));
    await w.send("c", encodeSignedPong("alice", "old", KEYS.get("alice") as string));
    await w.send("c", encodeSignedPong("alice", "t1", KEYS.get("alice") as string));
    expect(w.accepted).toEqual(["pong alice", "pong alice"]);
    expect(w.refusals.map((r) => r.reason)).toEqual(["stale-token"]);
    expect(w.lookups).toBe(1);
  });

  it("a signed goodbye with a recent token takes effect", async () => {
    const w = new World();
    await w.send("c", encodeGoodbye("alice", "t1", KEYS.get("alice") as string));
    await w.send("c", encodeGoodbye("alice", "nope", KEYS.get("alice") as string));
    expect(w.accepted).toEqual(["goodbye alice"]);
  });

  it("the seed's unsigned format counts only with allow_unsigned_clients, by routing id", async () => {
    const strict = new World(false);
    await strict.send("alice", encodePong("t1"));
    await strict.send("alice", encodeHello(hello("alice")));
    expect(strict.accepted).toEqual([]);
    expect(strict.refusals.map((r) => r.reason)).toEqual(["unsigned", "unsigned"]);
    expect(strict.replies.map((r) => r.reply)).toEqual([
      { kind: "refused", reason: "unsigned" },
      { kind: "refused", reason: "unsigned" },
    ]);
    const lax = new World(true);
    await lax.send("alice", encodePong("t1"));
    await lax.send("alice", encodeHello(hello("alice")));
    await lax.send("alice", encodeHello(hello("bob")));
    expect(lax.accepted).toEqual(["pong alice", "hello alice"]);
  });
});

describe("SharedKeyCache", () => {
  it("is single-flight per name and refuses lookups past its queue", async () => {
    let calls = 0;
    const release: (() => void)[] = [];
    const cache = new SharedKeyCache({
      source: {
        sharedKeyOf: (name) =>
          new Promise((resolve) => {
            calls += 1;
            release.push(() => resolve(`key-${name}`));
          }),
      },
      concurrency: 1,
      maxWaiting: 1,
    });
    const a1 = cache.lookup("a");
    const a2 = cache.lookup("a");
    const b = cache.lookup("b"); // waits for the slot
    const c = await cache.lookup("c"); // queue full
    expect(c).toEqual({ found: false, busy: true });
    release.shift()?.();
    expect(await a1).toEqual({ found: true, key: "key-a" });
    expect(await a2).toEqual({ found: true, key: "key-a" });
    await new Promise((resolve) => setTimeout(resolve, 0));
    release.shift()?.();
    expect(await b).toEqual({ found: true, key: "key-b" });
    expect(calls).toBe(2);
  });
});

describe("Reachability and hellos", () => {
  it("re-announces on a hello at most once per renotify interval", () => {
    const online = new OnlineClients();
    online.add("c1");
    const reach = new Reachability({ helloGraceMs: 0, renotifyMs: 1_000 }, online);
    expect(reach.hello("c1", 0)).toBe(0);
    for (let at = 10; at < 1_000; at += 15) expect(reach.hello("c1", at)).toBeUndefined();
    expect(reach.takeCatchUps(1_000).size).toBe(1);
    expect(reach.hello("c1", 1_000)).toBe(1_000);
  });
});
