import type { KeyUsage } from "@osad2/keys";
import type { SystemRecord } from "../db/diagnosis-queries.js";
import type { LiveConnection, LiveState } from "./live-types.js";

/** One system osad2 manages, as `osad2-server systems` prints it. */
export interface SystemRow {
  readonly serverId: number | null;
  readonly profileName: string | null;
  readonly clientName: string;
  /** The client key's name; null when unknown. */
  readonly keyName: string | null;
  /** Several keys handshook at once when it connected: one of these (never guessed). */
  readonly keyCandidates?: readonly string[];
  /** online / offline (presence; rhnPushClient when the server is not running). */
  readonly state: "online" | "offline";
  readonly connectedSince: string | null;
  readonly lastSeen: string | null;
  readonly address: string | null;
  /**
   * How its last connection reached this server: `direct`, or the proxy path (`dmz/branch7`);
   * null when no connection of it is known.
   */
  readonly via: string | null;
  readonly clientVersion: string | null;
}

/** What `osad2-server systems --json` prints. */
export interface SystemsReport {
  readonly serverRunning: boolean;
  readonly systems: readonly SystemRow[];
}

/** What the systems listing reads. */
export interface SystemsSources {
  /** The managed push client names (the running server's, else managed-clients.json). */
  readonly managed: readonly string[];
  readonly live: LiveState | null;
  /** rhnServer/rhnPushClient rows of the managed names. */
  readonly records: readonly SystemRecord[];
  readonly usage: ReadonlyMap<string, KeyUsage>;
}

function keyOf(connection: LiveConnection | undefined): {
  name: string | null;
  candidates?: string[];
} {
  const key = connection?.key;
  if (key?.kind === "known") return { name: key.keyName };
  if (key?.kind === "ambiguous") {
    return { name: null, candidates: key.candidates.map((c) => c.keyName ?? c.publicKey) };
  }
  return { name: null };
}

/** Still there: no goodbye, not cut with its proxy link, and heard from within missed_pings ping intervals. */
function connected(connection: LiveConnection, live: LiveState | null): boolean {
  if (live === null || connection.goodbye !== null || connection.closed === true) return false;
  const window = live.settings.pingIntervalMs * live.settings.missedPings;
  return Date.parse(live.now) - Date.parse(connection.lastMessage) <= window;
}

/** One row per managed push client (like `salt-run manage.status`), sorted by server id. */
export function listSystems(sources: SystemsSources): SystemsReport {
  const { live } = sources;
  const byName = new Map(
    sources.records.flatMap((r) =>
      r.pushClient === null ? [] : [[r.pushClient.name, r] as const],
    ),
  );
  const online = new Set(live?.online ?? []);
  const rows = sources.managed.map((clientName): SystemRow => {
    const record = byName.get(clientName);
    let connection: LiveConnection | undefined;
    for (const c of live?.connections ?? []) {
      if (c.clientName === clientName) {
        if (connection === undefined || c.lastMessage > connection.lastMessage) connection = c;
      }
    }
    const isConnected = connection !== undefined && connected(connection, live);
    const key = keyOf(connection);
    let keyName = key.name;
    let usage: KeyUsage | undefined;
    // The key that last spoke for this name, else for this system (a name register_osad just gave).
    let byServer: [string, KeyUsage] | undefined;
    for (const [name, entry] of sources.usage) {
      if (entry.clientName === clientName) {
        usage = entry;
        if (keyName === null && key.candidates === undefined) keyName = name;
      } else if (record !== undefined && entry.serverId === record.serverId) {
        if (byServer === undefined || entry.lastSeen > byServer[1].lastSeen)
          byServer = [name, entry];
      }
    }
    if (usage === undefined && byServer !== undefined) {
      usage = byServer[1];
      if (keyName === null && key.candidates === undefined) keyName = byServer[0];
    }
    const state =
      live === null
        ? (record?.pushClient?.state ?? "offline")
        : online.has(clientName)
          ? "online"
          : "offline";
    return {
      serverId: record?.serverId ?? null,
      profileName: record?.profileName ?? null,
      clientName,
      keyName,
      ...(key.candidates === undefined ? {} : { keyCandidates: key.candidates }),
      state,
      connectedSince: isConnected ? (connection?.since ?? null) : null,
      lastSeen:
        connection?.lastMessage ??
        usage?.lastSeen ??
        record?.pushClient?.lastMessageTime?.toISOString() ??
        null,
      address: connection?.address ?? usage?.address ?? null,
      via: connection === undefined ? null : (connection.via?.join("/") ?? "direct"),
      clientVersion: connection?.software ?? null,
    };
  });
  rows.sort(
    (a, b) =>
      (a.serverId ?? Infinity) - (b.serverId ?? Infinity) || (a.clientName < b.clientName ? -1 : 1),
  );
  return { serverRunning: live !== null, systems: rows };
}

/** The table `osad2-server systems` prints. */
export function formatSystems(report: SystemsReport): string {
  const header = [
    "SERVER_ID",
    "PROFILE",
    "CLIENT",
    "KEY",
    "STATE",
    "CONNECTED_SINCE",
    "LAST_SEEN",
    "ADDRESS",
    "VIA",
    "VERSION",
  ];
  const cells = report.systems.map((row) => [
    row.serverId === null ? "-" : String(row.serverId),
    row.profileName ?? "-",
    row.clientName,
    row.keyName ??
      (row.keyCandidates === undefined ? "-" : `ambiguous(${row.keyCandidates.join("|")})`),
    row.state,
    row.connectedSince ?? "-",
    row.lastSeen ?? "-",
    row.address ?? "-",
    row.via ?? "-",
    row.clientVersion ?? "-",
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.map((c) => (c[i] as string).length)),
  );
  const line = (c: readonly string[]): string =>
    c
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd();
  const out = [line(header), ...cells.map(line)];
  if (!report.serverRunning)
    out.push("(osad2-server is not running: state from rhnPushClient and key-usage.json)");
  return `${out.join("\n")}\n`;
}
