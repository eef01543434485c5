// doctor's chain walk with fakes of its sources: each broken link, the fix it names, and
// what holds each action (the due decision itself is the fake's, as it is the store's query).
import type { KeyUsage } from "@osad2/keys";
import { describe, expect, it } from "vitest";
import type { ActionStatus, PendingAction, SystemRecord } from "../src/db/diagnosis-queries.js";
import type { DueAction } from "../src/db/types.js";
import { diagnose } from "../src/diagnostics/doctor.js";
import { formatDoctorReport } from "../src/diagnostics/doctor-format.js";
import type { LiveConnection, LiveState } from "../src/diagnostics/live-types.js";
import type {
  DoctorDatabase,
  DoctorSources,
  KeyDirectory,
  KeyFile,
} from "../src/diagnostics/ports.js";

const NOW = new Date("2026-12-02T10:00:00.000Z");
const at = (secondsAgo: number): string =>
  new Date(NOW.getTime() - secondsAgo * 1000).toISOString();
const PK = "a".repeat(40);
const SETTINGS: LiveState["settings"] = {
  pingIntervalMs: 10_000,
  missedPings: 3,
  notifyThreshold: 0,
  renotifyPickedUp: false,
  publisherPort: 5555,
  listenerPort: 5556,
};

const web01: SystemRecord = {
  serverId: 1000010000,
  profileName: "web01",
  pushClient: { name: "c0ffee0000000001", state: "online", lastMessageTime: NOW, modified: NOW },
};

class FakeDatabase implements DoctorDatabase {
  systems: SystemRecord[] = [web01];
  pending: PendingAction[] = [];
  due: number[] = [];
  running: number[] = [];
  statuses: ActionStatus[] = [];

  async findSystems(reference: string): Promise<SystemRecord[]> {
    return this.systems.filter(
      (s) =>
        String(s.serverId) === reference ||
        s.profileName === reference ||
        s.pushClient?.name === reference,
    );
  }
  async systemsById(ids: readonly number[]): Promise<SystemRecord[]> {
    return this.systems.filter((s) => ids.includes(s.serverId));
  }
  async pendingActions(): Promise<PendingAction[]> {
    return this.pending;
  }
  async actionStatuses(): Promise<ActionStatus[]> {
    return this.statuses;
  }
  async dueActions(clientName: string): Promise<DueAction[]> {
    return this.pending
      .filter((a) => this.due.includes(a.actionId))
      .map((a) => ({
        serverId: web01.serverId,
        actionId: a.actionId,
        clientName,
        status: a.status,
        earliestAction: a.earliestAction ?? NOW,
        created: a.created ?? a.earliestAction ?? NOW,
        actionType: a.actionType,
      }));
  }
  async runningSystems(): Promise<number[]> {
    return this.running;
  }
}

class FakeKeys implements KeyDirectory {
  files: KeyFile[] = [
    { name: "web01", publicKey: PK, path: "/certs/public_keys/web01.key", revoked: false },
  ];
  byName(name: string): KeyFile | undefined {
    return this.files.find((f) => f.name === name);
  }
  byPublicKey(publicKey: string): KeyFile | undefined {
    return this.files.find((f) => f.publicKey === publicKey);
  }
}

function connection(overrides: Partial<LiveConnection> = {}): LiveConnection {
  return {
    routingId: "7e01",
    key: { kind: "known", publicKey: PK, keyName: "web01" },
    address: "10.0.0.5",
    since: at(600),
    lastMessage: at(2),
    clientName: "c0ffee0000000001",
    lastHello: at(600),
    lastPong: at(2),
    subscriptionProven: true,
    software: "0.1.0",
    goodbye: null,
    ...overrides,
  };
}

function live(overrides: Partial<LiveState> = {}): LiveState {
  return {
    version: 1,
    pid: 42,
    startedAt: at(3600),
    now: NOW.toISOString(),
    settings: SETTINGS,
    managed: ["c0ffee0000000001"],
    online: ["c0ffee0000000001"],
    asked: 0,
    connections: [connection()],
    subscribers: [],
    notifications: [],
    failures: [],
    usage: {},
    ...overrides,
  };
}

const usage: KeyUsage = {
  serverId: 1000010000,
  profileName: "web01",
  clientName: "c0ffee0000000001",
  address: "10.0.0.5",
  firstSeen: at(86_400),
  lastSeen: at(2),
};

type TestSources = { -readonly [K in keyof DoctorSources]: DoctorSources[K] } & {
  database: FakeDatabase;
  keys: FakeKeys;
};

function sources(overrides: Partial<DoctorSources> = {}): TestSources {
  return {
    database: new FakeDatabase(),
    keys: new FakeKeys(),
    usage: new Map([["web01", usage]]),
    live: live(),
    settings: SETTINGS,
    now: NOW,
    ...overrides,
  } as TestSources;
}

function pending(overrides: Partial<PendingAction> & { actionId: number }): PendingAction {
  return {
    status: 0,
    actionType: "packages.update",
    name: null,
    earliestAction: new Date(NOW.getTime() - 60_000),
    earliestActionText: "",
    created: null,
    pickupTime: null,
    prerequisite: null,
    ...overrides,
  };
}

describe("doctor", () => {
  it("finds a healthy system by server id, profile, client name and key name: pushable", async () => {
    for (const reference of ["1000010000", "web01", "c0ffee0000000001"]) {
      const report = await diagnose(sources(), reference);
      expect(report.verdict).toBe("pushable");
      expect(report.broken).toBeNull();
      expect(report.links.every((l) => l.status === "ok")).toBe(true);
    }
    const s = sources();
    s.database.systems = [{ ...web01, profileName: "www" }];
    expect((await diagnose(s, "web01")).system?.serverId).toBe(1000010000);
    expect(formatDoctorReport(await diagnose(sources(), "web01"))).toMatch(/^web01: PUSHABLE/);
  });

  it("names the proxy path of a system behind proxies, and the proxy that is not connected", async () => {
    const through = sources({
      live: live({
        connections: [connection({ via: ["dmz", "branch7"], address: "10.1.7.9" })],
        proxies: [{ name: "dmz", connections: 12, since: at(3600) }],
      }),
    });
    const report = await diagnose(through, "web01");
    expect(report.verdict).toBe("pushable");
    expect(report.links.find((l) => l.link === "proxy")?.summary).toContain(
      "through proxy dmz/branch7",
    );
    expect(report.links.find((l) => l.link === "connection")?.summary).toContain(
      "connection through proxy dmz/branch7 from 10.1.7.9",
    );
    const down = sources({
      live: live({ connections: [connection({ via: ["dmz", "branch7"] })], proxies: [] }),
    });
    expect(formatDoctorReport(await diagnose(down, "web01"))).toContain("proxy dmz not connected");
  });

  it("unknown and ambiguous references are unknown-system", async () => {
    expect((await diagnose(sources(), "nope")).verdict).toBe("unknown-system");
    const s = sources();
    s.database.systems = [web01, { ...web01, serverId: 1000010001, pushClient: null }];
    const report = await diagnose(s, "web01");
    expect(report.verdict).toBe("unknown-system");
    expect(report.message).toContain("give the server id");
  });

  it.each<[string, (s: ReturnType<typeof sources>) => void, string, string | undefined]>([
    [
      "no push client",
      (s) => (s.database.systems = [{ ...web01, pushClient: null }]),
      "push-client",
      "no-push-client",
    ],
    [
      "a revoked key",
      (s) =>
        (s.keys.files = [
          { name: "web01", publicKey: PK, path: "/certs/revoked/web01.1.key", revoked: true },
        ]),
      "key",
      "key-revoked",
    ],
    ["a key file gone", (s) => (s.keys.files = []), "key", "key-missing"],
    [
      "the server not running",
      (s) => Object.assign(s, { live: null }),
      "server",
      "server-not-running",
    ],
    [
      "this server standing by (failover)",
      (s) => Object.assign(s, { live: live({ settings: { ...SETTINGS, role: "standby" } }) }),
      "server",
      "server-standby",
    ],
    [
      "the stale name",
      (s) =>
        Object.assign(s, {
          live: live({ connections: [connection({ clientName: "0ld0000000000000" })] }),
        }),
      "connection",
      "stale-name",
    ],
    [
      "no connection",
      (s) => Object.assign(s, { live: live({ connections: [] }) }),
      "connection",
      "not-connected",
    ],
    [
      "the proxy its client connects through not linked",
      (s) =>
        Object.assign(s, {
          live: live({ connections: [connection({ via: ["dmz", "branch7"] })], proxies: [] }),
        }),
      "proxy",
      "proxy-not-connected",
    ],
    [
      "a connection cut with its proxy's link",
      (s) =>
        Object.assign(s, {
          live: live({
            connections: [connection({ via: ["dmz"], closed: true })],
            proxies: [{ name: "dmz", connections: 0, since: at(1) }],
          }),
        }),
      "proxy",
      "proxy-connection-cut",
    ],
    [
      "a goodbye",
      (s) => Object.assign(s, { live: live({ connections: [connection({ goodbye: at(5) })] }) }),
      "connection",
      "said-goodbye",
    ],
    [
      "a silent connection",
      (s) =>
        Object.assign(s, {
          live: live({ connections: [connection({ lastMessage: at(60), lastPong: at(60) })] }),
        }),
      "connection",
      "silent",
    ],
    [
      "no pong",
      (s) => Object.assign(s, { live: live({ connections: [connection({ lastPong: null })] }) }),
      "pong",
      "no-pong",
    ],
    [
      "an unproven subscription",
      (s) =>
        Object.assign(s, {
          live: live({ connections: [connection({ subscriptionProven: false })] }),
        }),
      "subscription",
      "subscription-unproven",
    ],
    [
      "presence not online",
      (s) => Object.assign(s, { live: live({ online: [] }) }),
      "presence",
      "not-online",
    ],
  ])("stops at %s", async (_what, arrange, link, problem) => {
    const s = sources();
    arrange(s);
    const report = await diagnose(s, "1000010000");
    expect(report.verdict).toBe("not-pushable");
    expect(report.broken).toBe(link);
    const last = report.links.at(-1);
    expect(last).toMatchObject({ link, status: "broken", problem });
    expect(last?.fix).toBeTruthy();
    expect(formatDoctorReport(report)).toContain("fix: ");
  });

  it("stale name: names both names and is found by the old one", async () => {
    const s = sources({
      usage: new Map([["web01", { ...usage, clientName: "0ld0000000000000" }]]),
      live: live({ connections: [connection({ clientName: "0ld0000000000000" })] }),
    });
    const report = await diagnose(s, "0ld0000000000000");
    expect(report.system?.serverId).toBe(1000010000);
    expect(report.links.at(-1)?.summary).toContain("speaks as push client 0ld0000000000000");
    expect(report.links.at(-1)?.summary).toContain("now c0ffee0000000001");
  });

  it("a re-issued system still on its old, retiring key: allowed, says until when", async () => {
    const s = sources();
    s.keys.files = [
      {
        name: "web01",
        publicKey: "n".repeat(40),
        path: "/certs/public_keys/web01.key",
        revoked: false,
      },
      {
        name: "web01",
        publicKey: PK,
        path: "/certs/retiring/web01.20261209T100000Z.key",
        revoked: false,
        retiringUntil: "2026-12-09T10:00:00.000Z",
      },
    ];
    const report = await diagnose(s, "web01");
    expect(report.verdict).toBe("pushable");
    expect(report.key?.path).toBe("/certs/retiring/web01.20261209T100000Z.key");
    expect(report.links.find((l) => l.link === "key")?.summary).toContain(
      "allowed until 2026-12-09T10:00:00.000Z",
    );
  });

  it("an unknown key is not a broken link", async () => {
    const s = sources({
      usage: new Map(),
      live: live({ connections: [connection({ key: { kind: "unknown" } })] }),
    });
    const report = await diagnose(s, "1000010000");
    expect(report.links.find((l) => l.link === "key")?.status).toBe("unknown");
    expect(report.verdict).toBe("pushable");
  });

  it("says which key a connection may have used when handshakes were simultaneous", async () => {
    const key = {
      kind: "ambiguous" as const,
      candidates: [
        { publicKey: PK, keyName: "web01" },
        { publicKey: "b".repeat(40), keyName: "web02" },
      ],
    };
    const report = await diagnose(
      sources({ live: live({ connections: [connection({ key })] }) }),
      "web01",
    );
    expect(report.links.find((l) => l.link === "connection")?.summary).toContain(
      "key ambiguous: one of web01, web02",
    );
    // An ambiguous connection speaking another name is not taken for this system's stale client.
    const other = await diagnose(
      sources({
        live: live({ connections: [connection({ key, clientName: "0ther00000000000" })] }),
      }),
      "1000010000",
    );
    expect(other.links.at(-1)?.problem).toBe("not-connected");
  });

  it("says what holds each action, by the conditions of the due query", async () => {
    const s = sources();
    s.database.pending = [
      pending({ actionId: 1 }),
      pending({ actionId: 2, earliestAction: new Date(NOW.getTime() + 3_600_000) }),
      pending({ actionId: 3, prerequisite: { actionId: 1, status: 0 } }),
      // No row of the prerequisite for this system: not held (the query's NOT EXISTS), so due.
      pending({ actionId: 4, prerequisite: { actionId: 99, status: null } }),
      pending({ actionId: 5, earliestAction: null, earliestActionText: "tonight" }),
    ];
    s.database.due = [1, 4];
    const report = await diagnose(s, "web01");
    expect(report.actions.map((a) => [a.actionId, a.due, a.heldBy?.kind ?? null])).toEqual([
      [1, true, null],
      [2, false, "earliest-action"],
      [3, false, "prerequisite"],
      [4, true, null],
      [5, false, "unreadable-earliest-action"],
    ]);
    expect(formatDoctorReport(report)).toMatch(
      /action 5 .*never due: earliest_action holds "tonight"/,
    );
  });

  it("a reboot in progress and a picked-up action", async () => {
    const s = sources();
    s.database.pending = [
      pending({ actionId: 1, status: 1, actionType: "reboot.reboot", pickupTime: NOW }),
      pending({ actionId: 2 }),
    ];
    const report = await diagnose(s, "web01");
    expect(report.actions.map((a) => a.heldBy?.kind)).toEqual([
      "reboot-in-progress",
      "reboot-in-progress",
    ]);
    s.database.pending = [pending({ actionId: 5, status: 1, pickupTime: NOW })];
    expect((await diagnose(s, "web01")).actions[0]?.heldBy?.kind).toBe("picked-up");
  });

  it("the throttle holds due work of a system not asked yet, and not once it was", async () => {
    const s = sources({ settings: { ...SETTINGS, notifyThreshold: 2 } });
    s.live = live({ settings: { ...SETTINGS, notifyThreshold: 2 }, asked: 1 });
    s.database.pending = [pending({ actionId: 7 })];
    s.database.due = [7];
    s.database.running = [1000010005];
    const report = await diagnose(s, "web01");
    expect(report.verdict).toBe("pushable");
    expect(report.actions[0]?.heldBy).toEqual({
      kind: "throttle",
      running: 1,
      asked: 1,
      notifyThreshold: 2,
    });
    s.live = live({
      settings: { ...SETTINGS, notifyThreshold: 2 },
      asked: 1,
      notifications: [
        { clientName: "c0ffee0000000001", serverId: 1000010000, actionIds: [7], at: at(1) },
      ],
    });
    s.database.statuses = [{ actionId: 7, status: 0, pickupTime: null, completionTime: null }];
    const asked = await diagnose(s, "web01");
    expect(asked.actions[0]?.heldBy).toBeNull();
    expect(asked.lastNotification?.pickups).toEqual([
      { actionId: 7, status: 0, pickedUp: false, pickupTime: null },
    ]);
  });

  it("lists refusals for its key or names, and by address only those no key claims", async () => {
    const failures = [
      {
        at: at(3),
        reason: "unknown-key",
        address: "10.0.0.5",
        publicKey: PK,
        keyName: "web01",
        clientName: null,
      },
      {
        at: at(3),
        reason: "unknown-key",
        address: "10.0.0.5",
        publicKey: PK,
        keyName: "web01",
        clientName: null,
      },
      {
        at: at(2),
        reason: "unknown-key",
        address: "10.0.0.5",
        publicKey: "c".repeat(40),
        keyName: "db01",
        clientName: null,
      },
      {
        at: at(1),
        reason: "handshake",
        address: "10.0.0.5",
        publicKey: null,
        keyName: null,
        clientName: null,
      },
    ];
    const report = await diagnose(sources({ live: live({ failures }) }), "web01");
    expect(report.failures.map((f) => f.reason)).toEqual(["unknown-key", "handshake"]);
  });
});
