import { describe, expect, it } from "vitest";
import { ClosedPeerLookup, recentlyClosedPeers } from "../src/transport/closing-peers.js";

describe("ClosedPeerLookup", () => {
  it("reads the TCP tables once per port per second however many handshakes fail", async () => {
    let now = 0;
    const reads: number[] = [];
    const lookup = new ClosedPeerLookup(
      async (port) => {
        reads.push(port);
        return recentlyClosedPeers(port);
      },
      1_000,
      () => now,
    );
    const burst = await Promise.all(Array.from({ length: 500 }, () => lookup.peersOf(5556)));
    expect(burst.every((peers) => Array.isArray(peers))).toBe(true);
    await lookup.peersOf(5555);
    expect(reads).toEqual([5556, 5555]);
    now = 999;
    await lookup.peersOf(5556);
    expect(reads).toHaveLength(2);
    now = 1_000;
    await lookup.peersOf(5556);
    expect(reads).toEqual([5556, 5555, 5556]);
  });
});
