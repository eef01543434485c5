// `systems`: one row per managed push client, from the live state when the server runs and
// from rhnPushClient and key-usage.json when it does not.
import { describe, expect, it } from "vitest";
import type { LiveConnection, LiveState } from "../src/diagnostics/live-types.js";
import { formatSystems, listSystems } from "../src/diagnostics/systems.js";

const NOW = "2026-12-02T10:00:00.000Z";
const conn = (overrides: Partial<LiveConnection>): LiveConnection => ({
  routingId: "01",
  key: { kind: "known", publicKey: "A".repeat(40), keyName: "web01" },
  address: "10.0.0.5",
  since: "2026-12-02T09:00:00.000Z",
  lastMessage: "2026-12-02T09:59:58.000Z",
  clientName: "c1",
  lastHello: null,
  lastPong: null,
  subscriptionProven: true,
  software: "0.1.0",
  goodbye: null,
  ...overrides,
});
const live: LiveState = {
  version: 1,
  pid: 1,
  startedAt: NOW,
  now: NOW,
  settings: {
    pingIntervalMs: 10_000,
    missedPings: 3,
    notifyThreshold: 0,
    renotifyPickedUp: false,
    publisherPort: 5555,
    listenerPort: 5556,
  },
  managed: ["c1", "c2", "c3"],
  online: ["c1", "c2"],
  asked: 0,
  connections: [
    conn({}),
    conn({
      routingId: "02",
      clientName: "c2",
      key: {
        kind: "ambiguous",
        candidates: [
          { publicKey: "B".repeat(40), keyName: "web02" },
          { publicKey: "C".repeat(40), keyName: "web03" },
        ],
      },
    }),
  ],
  subscribers: [],
  notifications: [],
  failures: [],
  usage: {},
};
const record = (serverId: number, name: string, client: string) => ({
  serverId,
  profileName: name,
  pushClient: { name: client, state: "offline" as const, lastMessageTime: null, modified: null },
});
const records = [record(3, "db01", "c3"), record(1, "web01", "c1"), record(2, "web02", "c2")];

describe("systems", () => {
  it("lists managed clients by server id with key, state, since, address and version", () => {
    const usage = new Map([
      [
        "db01",
        {
          serverId: 3,
          profileName: "db01",
          clientName: "old-name",
          address: "10.0.0.7",
          firstSeen: NOW,
          lastSeen: "2026-12-02T08:00:00.000Z",
        },
      ],
    ]);
    const report = listSystems({ managed: live.managed, live, records, usage });
    expect(report.systems).toEqual([
      {
        serverId: 1,
        profileName: "web01",
        clientName: "c1",
        keyName: "web01",
        state: "online",
        connectedSince: "2026-12-02T09:00:00.000Z",
        lastSeen: "2026-12-02T09:59:58.000Z",
        address: "10.0.0.5",
        via: "direct",
        clientVersion: "0.1.0",
      },
      expect.objectContaining({ serverId: 2, keyName: null, keyCandidates: ["web02", "web03"] }),
      // Not connected; its key known only for the system (a name register_osad just gave).
      expect.objectContaining({
        serverId: 3,
        keyName: "db01",
        state: "offline",
        connectedSince: null,
        address: "10.0.0.7",
      }),
    ]);
    const text = formatSystems(report);
    expect(text.split("\n")[0]).toMatch(
      /^SERVER_ID\s+PROFILE\s+CLIENT\s+KEY\s+STATE\s+CONNECTED_SINCE\s+LAST_SEEN\s+ADDRESS\s+VIA\s+VERSION$/,
    );
    expect(text).toContain("ambiguous(web02|web03)");
  });

  it("names the proxy path a system's connection comes through (VIA), and a connection cut with its link is not connected", () => {
    const proxied: LiveState = {
      ...live,
      connections: [
        conn({ via: ["dmz", "branch7"], address: "10.1.7.9" }),
        conn({ routingId: "02", clientName: "c2", via: ["dmz"], closed: true }),
      ],
    };
    const report = listSystems({ managed: ["c1", "c2"], live: proxied, records, usage: new Map() });
    expect(report.systems).toEqual([
      expect.objectContaining({ clientName: "c1", via: "dmz/branch7", address: "10.1.7.9" }),
      expect.objectContaining({ clientName: "c2", via: "dmz", connectedSince: null }),
    ]);
    const lines = formatSystems(report).split("\n");
    expect(lines[1]).toMatch(/\s10\.1\.7\.9\s+dmz\/branch7\s+0\.1\.0$/);
  });

  it("without a running server: rhnPushClient's state, and says so", () => {
    const report = listSystems({ managed: ["c1"], live: null, records, usage: new Map() });
    expect(report).toMatchObject({
      serverRunning: false,
      systems: [{ clientName: "c1", state: "offline" }],
    });
    expect(formatSystems(report)).toContain("osad2-server is not running");
  });
});
