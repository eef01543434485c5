// The connection book: handshakes matched to ROUTER connections (one key = attributed,
// several = ambiguous, none = unknown), reconnects, names proved by verified messages, and
// the key usage it hands to key-usage.json.
import { describe, expect, it } from "vitest";
import { ConnectionBook } from "../src/diagnostics/connection-book.js";
import type { ClientSystems, KeyNames } from "../src/diagnostics/ports.js";

const A = "A".repeat(40);
const B = "B".repeat(40);
const names: KeyNames = { nameOf: (pk) => (pk === A ? "web01" : pk === B ? "web02" : null) };
const systems: ClientSystems = {
  systemOf: async (name) =>
    name === "c1" ? { serverId: 1000010000, profileName: "web01" } : undefined,
};

function book(): { book: ConnectionBook; clock: { t: number } } {
  const clock = { t: Date.parse("2026-12-02T10:00:00Z") };
  return { book: new ConnectionBook({ keys: names, systems, now: () => clock.t }), clock };
}

const id = (text: string): Buffer => Buffer.from(text);

describe("connection book", () => {
  it("attributes a connection to the one key handshaking before it spoke", () => {
    const { book: b } = book();
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    b.received(id("~r1"), "hello-request");
    const [c] = b.snapshot().connections;
    expect(c).toMatchObject({
      key: { kind: "known", publicKey: A, keyName: "web01" },
      address: "10.0.0.5",
    });
    // The handshake is taken: the next connection has none left.
    b.received(id("~r2"), "hello-request");
    expect(b.snapshot().connections[1]?.key).toEqual({ kind: "unknown" });
  });

  it("two keys handshaking at once: ambiguous, never guessed", () => {
    const { book: b } = book();
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    b.admitted({ socket: "listener", address: "10.0.0.6", publicKey: B });
    b.received(id("~r1"), "hello-request");
    const [c] = b.snapshot().connections;
    expect(c?.key).toEqual({
      kind: "ambiguous",
      candidates: [
        { publicKey: A, keyName: "web01" },
        { publicKey: B, keyName: "web02" },
      ],
    });
    expect(c?.address).toBeNull();
  });

  it("a fleet connecting at once: an ambiguous connection lists 8 keys and counts the others; a signed claim of one not listed settles it", () => {
    const { book: b } = book();
    const key = (i: number): string => `F${i}`.padEnd(40, "x");
    for (let i = 0; i < 1_000; i++) {
      b.admitted({ socket: "listener", address: `10.0.2.${i}`, publicKey: key(i) });
    }
    b.received(id("~f1"), "hello-request");
    const [c] = b.snapshot().connections;
    if (c?.key.kind !== "ambiguous") throw new Error("not ambiguous");
    expect(c.key.candidates.map((k) => k.publicKey)).toEqual(
      Array.from({ length: 8 }, (_, i) => key(992 + i)),
    );
    expect(c.key.others).toBe(992);
    b.verified(id("~f1"), { type: "hello", clientName: "f1", curvePublicKey: key(3) });
    expect(b.snapshot().connections[0]).toMatchObject({
      key: { kind: "known", publicKey: key(3) },
      address: "10.0.2.3",
      clientName: "f1",
    });
  });

  it("handshakes older than the window do not count; SUB handshakes are kept apart", () => {
    const { book: b, clock } = book();
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    b.admitted({ socket: "publisher", address: "10.0.0.5", publicKey: A });
    clock.t += 31_000;
    b.received(id("~r1"), "hello-request");
    const snap = b.snapshot();
    expect(snap.connections[0]?.key).toEqual({ kind: "unknown" });
    expect(snap.subscribers).toMatchObject([
      { publicKey: A, keyName: "web01", address: "10.0.0.5" },
    ]);
  });

  it("a known connection asking for a hello again reconnected: it takes its key's handshake", () => {
    const { book: b, clock } = book();
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    b.received(id("~r1"), "hello-request");
    clock.t += 60_000;
    b.admitted({ socket: "listener", address: "10.0.0.9", publicKey: A });
    b.received(id("~r1"), "hello-request");
    expect(b.snapshot().connections[0]).toMatchObject({
      address: "10.0.0.9",
      since: new Date(clock.t).toISOString(),
    });
    // Taken: a new connection now finds no waiting handshake (not web01's again).
    b.received(id("~r2"), "hello-request");
    expect(
      b.snapshot().connections.find((c) => c.routingId === id("~r2").toString("hex"))?.key,
    ).toEqual({
      kind: "unknown",
    });
  });

  it("verified messages name the connection; the key's usage gets the system; identify answers", async () => {
    const { book: b, clock } = book();
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    b.received(id("~r1"), "hello-request");
    b.received(id("~r1"), "hello");
    b.verified(id("~r1"), { type: "hello", clientName: "c1", software: "0.1.0" });
    clock.t += 1_000;
    b.received(id("~r1"), "signed-pong");
    b.verified(id("~r1"), { type: "pong", clientName: "c1" });
    expect(await b.identify("c1")).toEqual({ serverId: 1000010000, keyName: "web01" });
    const c = b.snapshot().connections[0];
    expect(c).toMatchObject({ clientName: "c1", software: "0.1.0", subscriptionProven: true });
    const usage = b.takeUsage();
    expect(usage?.get("web01")).toMatchObject({
      serverId: 1000010000,
      profileName: "web01",
      clientName: "c1",
      address: "10.0.0.5",
    });
    expect(b.takeUsage()).toBeUndefined();
    b.usageNotSaved();
    expect(b.takeUsage()).toBeDefined();
  });

  it("refreshes a connection's place and its key's last-seen at most once a minute, but a new address or name at once", () => {
    const { book: b, clock } = book();
    const start = clock.t;
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    b.received(id("~r1"), "hello-request");
    b.verified(id("~r1"), { type: "hello", clientName: "c1" });
    b.received(id("~r2"), "hello-request");
    const order = (): string[] => b.snapshot().connections.map((c) => c.routingId);
    const r1 = id("~r1").toString("hex");
    const r2 = id("~r2").toString("hex");
    const lastSeen = (): string | undefined => b.takeUsage()?.get("web01")?.lastSeen;
    expect(lastSeen()).toBe(new Date(start).toISOString());
    clock.t += 30_000;
    b.received(id("~r1"), "signed-pong");
    b.verified(id("~r1"), { type: "pong", clientName: "c1" });
    // Its last message is current, its place and the key's last-seen wait for the minute.
    expect(order()).toEqual([r1, r2]);
    expect(b.snapshot().connections[0]?.lastMessage).toBe(new Date(clock.t).toISOString());
    expect(lastSeen()).toBeUndefined();
    clock.t += 30_000;
    b.received(id("~r1"), "signed-pong");
    b.verified(id("~r1"), { type: "pong", clientName: "c1" });
    expect(order()).toEqual([r2, r1]);
    expect(lastSeen()).toBe(new Date(clock.t).toISOString());
    // Registered again (a new name): recorded at once.
    clock.t += 1_000;
    b.received(id("~r1"), "hello");
    b.verified(id("~r1"), { type: "hello", clientName: "c9" });
    expect(b.takeUsage()?.get("web01")).toMatchObject({
      clientName: "c9",
      lastSeen: new Date(clock.t).toISOString(),
    });
  });

  it("records refusals with the connection's key and notifications per client", () => {
    const { book: b } = book();
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    b.received(id("~r1"), "signed-pong");
    b.refused({
      reason: "bad-signature",
      clientName: "c1",
      routingId: id("~r1").toString("hex"),
      peers: [],
    });
    b.failed({ reason: "unknown-key", address: "10.0.0.7", publicKey: B, clientName: null });
    b.notified({ clientName: "c1", serverId: 1, actionIds: [5] });
    const snap = b.snapshot();
    expect(snap.failures).toMatchObject([
      { reason: "bad-signature", keyName: "web01", address: "10.0.0.5", clientName: "c1" },
      { reason: "unknown-key", keyName: "web02", address: "10.0.0.7" },
    ]);
    expect(snap.notifications).toMatchObject([{ clientName: "c1", actionIds: [5] }]);
  });

  it("after a restart storm, v3 hellos' signed key claims make all 25 reconnecting connections exact", () => {
    const { book: b } = book();
    const N = 25;
    const key = (i: number): string => `K${i}`.padEnd(40, "x");
    for (let i = 0; i < N; i++) {
      b.admitted({ socket: "listener", address: `10.0.1.${i}`, publicKey: key(i) });
    }
    // All speak before any hello verifies: 25 pending keys each, so ambiguous at first.
    for (let i = 0; i < N; i++) b.received(id(`~r${i}`), "hello-request");
    expect(b.snapshot().connections.every((c) => c.key.kind === "ambiguous")).toBe(true);
    // A claim that is no pending handshake's key changes nothing (diagnostics, not trust).
    b.verified(id("~r0"), { type: "hello", clientName: "c0", curvePublicKey: A });
    expect(b.snapshot().connections[0]?.key.kind).toBe("ambiguous");
    for (let i = N - 1; i >= 0; i--) {
      b.received(id(`~r${i}`), "hello");
      b.verified(id(`~r${i}`), { type: "hello", clientName: `c${i}`, curvePublicKey: key(i) });
    }
    const byId = new Map(b.snapshot().connections.map((c) => [c.routingId, c]));
    for (let i = 0; i < N; i++) {
      expect(byId.get(id(`~r${i}`).toString("hex"))).toMatchObject({
        key: { kind: "known", publicKey: key(i) },
        address: `10.0.1.${i}`,
        clientName: `c${i}`,
      });
    }
  });

  it("a signed claim corrects a lone-handshake guess and gives that handshake back to its owner", () => {
    const { book: b } = book();
    b.admitted({ socket: "listener", address: "10.0.0.5", publicKey: A });
    // r2 (key B, whose handshake is not logged yet) speaks first and is taken for A.
    b.received(id("~r2"), "hello-request");
    b.admitted({ socket: "listener", address: "10.0.0.6", publicKey: B });
    b.verified(id("~r2"), { type: "hello", clientName: "c2", curvePublicKey: B });
    b.received(id("~r1"), "hello-request");
    b.verified(id("~r1"), { type: "hello", clientName: "c1", curvePublicKey: A });
    const [r2, r1] = b.snapshot().connections;
    expect(r2).toMatchObject({ key: { publicKey: B }, address: "10.0.0.6" });
    expect(r1).toMatchObject({ key: { publicKey: A }, address: "10.0.0.5" });
  });
});
