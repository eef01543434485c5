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

const KEYS: ReadonlyMap<string, string> = new Map([
  ["alice", "a".repeat(40)],
  ["bob", "b".repeat(40)],
]);

class World implements AuthenticatedHandler, IdentityReport {
  readonly accepted: string[] = [];
  readonly refusals: Refusal[] = [];
  readonly replies: { to: string; reply: ServerReply }[] = [];
  readonly tokens = new Set(["t1"]);
  lookups = 0;
  /** What rhnPushClient holds now (tests change it). */
  readonly keys = new Map(KEYS);
  /** The database fails every read while set. */
  failing = false;
  readonly auth: ClientAuthenticator;

  constructor(allowUnsigned = false) {
    this.auth = new ClientAuthenticator({
      allowUnsigned,
      keys: new SharedKeyCache({
        source: {
          sharedKeysOf: async (names) => {
            this.lookups += 1;
            if (this.failing) throw new Error("connection refused");
            const found = new Map<string, string>();
            for (const name of names) {
              const key = this.keys.get(name);
              if (key !== undefined) found.set(name, key);
            }
            return found;
          },
        },
        missTtlMs: 0,
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

  it("a key changed in the database is read again once a signature fails with the cached one", async () => {
    const w = new World();
    await w.send("c", encodeSignedPong("alice", "t1", KEYS.get("alice") as string));
    // Registered again elsewhere under the same name: a new key.
    w.keys.set("alice", "n".repeat(40));
    await w.send("c", encodeSignedPong("alice", "t1", "n".repeat(40)));
    expect(w.accepted).toEqual(["pong alice", "pong alice"]);
    expect(w.lookups).toBe(2);
    // The old key fails against the fresh one: refused, told to register again.
    await w.send("c", encodeSignedPong("alice", "t1", KEYS.get("alice") as string));
    expect(w.accepted).toHaveLength(2);
    expect(w.refusals.map((r) => r.reason)).toEqual(["bad-signature"]);
    expect(w.replies.at(-1)?.reply).toEqual({ kind: "unknown-client", clientName: "alice" });
  });

  it("a hello whose key cannot be read is answered refused busy; a pong is not answered", async () => {
    const w = new World();
    w.failing = true;
    await w.send("conn1", encodeHelloRequest());
    const nonce = w.challengeFor("conn1");
    await w.send("conn1", encodeSignedHello(hello("alice"), nonce, KEYS.get("alice") as string));
    await w.send("conn1", encodeSignedPong("alice", "t1", KEYS.get("alice") as string));
    expect(w.accepted).toEqual([]);
    expect(w.refusals.map((r) => r.reason)).toEqual(["busy", "busy"]);
    expect(w.replies.map((r) => r.reply.kind)).toEqual(["challenge", "refused"]);
    expect(w.replies.at(-1)?.reply).toEqual({ kind: "refused", reason: "busy" });
    // The database is back: the client's next round (a new challenge) gets it online.
    w.failing = false;
    await w.send("conn1", encodeHelloRequest());
    const again = w.challengeFor("conn1");
    await w.send("conn1", encodeSignedHello(hello("alice"), again, KEYS.get("alice") as string));
    expect(w.accepted).toEqual(["hello alice"]);
  });
});

/** A source that records each statement's names and answers when told. */
class HeldSource {
  readonly statements: string[][] = [];
  private readonly held: (() => void)[] = [];
  failNext = false;

  sharedKeysOf = (names: readonly string[]): Promise<Map<string, string>> => {
    this.statements.push([...names]);
    const fail = this.failNext;
    this.failNext = false;
    return new Promise((resolve, reject) =>
      this.held.push(() =>
        fail
          ? reject(new Error("database down"))
          : resolve(new Map(names.filter((n) => n !== "ghost").map((n) => [n, `key-${n}`]))),
      ),
    );
  };

  releaseAll(): void {
    for (const release of this.held.splice(0)) release();
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("SharedKeyCache", () => {
  it("reads a burst of names in batches of batchSize, concurrency statements at a time", async () => {
    const source = new HeldSource();
    const cache = new SharedKeyCache({ source, batchSize: 1_000, concurrency: 2 });
    const names = Array.from({ length: 2_500 }, (_, i) => `c${i}`);
    const lookups = names.map((name) => cache.lookup(name));
    const again = cache.lookup("c7"); // single-flight: the same lookup
    await turn();
    expect(source.statements.map((s) => s.length)).toEqual([1_000, 1_000]);
    source.releaseAll();
    await Promise.all(lookups.slice(0, 2_000));
    await turn();
    expect(source.statements.map((s) => s.length)).toEqual([1_000, 1_000, 500]);
    source.releaseAll();
    const results = await Promise.all(lookups);
    expect(results.every((r, i) => r.found && r.key === `key-c${i}`)).toBe(true);
    expect(await again).toEqual({ found: true, key: "key-c7" });
    // Cached now: no statement more.
    expect(await cache.lookup("c2499")).toEqual({ found: true, key: "key-c2499" });
    expect(source.statements).toHaveLength(3);
    expect(cache.size).toBe(2_500);
  });

  it("refuses lookups as busy past maxWaiting, and when the read fails (nothing remembered)", async () => {
    const source = new HeldSource();
    const failures: number[] = [];
    const cache = new SharedKeyCache({
      source,
      batchSize: 2,
      concurrency: 1,
      maxWaiting: 2,
      readFailed: (_error, names) => failures.push(names),
    });
    source.failNext = true;
    const ab = [cache.lookup("a"), cache.lookup("b")];
    await turn(); // a and b in the statement (which fails), nothing waiting
    const cd = [cache.lookup("c"), cache.lookup("d")];
    expect(await cache.lookup("e")).toEqual({ found: false, busy: true });
    source.releaseAll();
    expect(await Promise.all(ab)).toEqual([
      { found: false, busy: true },
      { found: false, busy: true },
    ]);
    expect(failures).toEqual([2]);
    await turn();
    source.releaseAll();
    expect(await Promise.all(cd)).toEqual([
      { found: true, key: "key-c" },
      { found: true, key: "key-d" },
    ]);
    // a was not remembered as missing: read again.
    const a = cache.lookup("a");
    await turn();
    source.releaseAll();
    expect(await a).toEqual({ found: true, key: "key-a" });
  });

  it("keeps keys ttl (+ up to 25 %), misses missTtl, and reads a fresh key at most once per missTtl", async () => {
    const source = new HeldSource();
    let now = 0;
    const cache = new SharedKeyCache({
      source,
      ttlMs: 1_000,
      missTtlMs: 100,
      now: () => now,
      random: () => 0.999,
    });
    const read = async (name: string, fresh = false) => {
      const lookup = cache.lookup(name, fresh);
      await turn();
      source.releaseAll();
      return lookup;
    };
    await read("a");
    await read("ghost");
    expect(source.statements).toHaveLength(2);
    now = 50;
    expect(await read("a", true)).toEqual({ found: true, key: "key-a" }); // read 50 ms ago
    expect(await read("ghost")).toEqual({ found: false, busy: false });
    expect(source.statements).toHaveLength(2);
    now = 150;
    await read("ghost"); // the miss expired
    await read("a", true); // a fresh read is allowed again
    expect(source.statements.map((s) => s[0])).toEqual(["a", "ghost", "ghost", "a"]);
    now = 150 + 1_240; // within ttl × 1.25 of the last read (jitter 0.999 → 249 ms)
    await read("a");
    expect(source.statements).toHaveLength(4);
    now = 150 + 1_250;
    await read("a");
    expect(source.statements).toHaveLength(5);
  });

  it("answers a trusted cached key at once (no promise), and nothing for a name not read or expired", async () => {
    const source = new HeldSource();
    let now = 0;
    const cache = new SharedKeyCache({ source, ttlMs: 1_000, now: () => now, random: () => 0 });
    expect(cache.cached("a")).toBeUndefined();
    const lookup = cache.lookup("a");
    await turn();
    source.releaseAll();
    await lookup;
    expect(cache.cached("a")).toEqual({ found: true, key: "key-a" });
    now = 1_000;
    expect(cache.cached("a")).toBeUndefined();
    expect(source.statements).toHaveLength(1);
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
