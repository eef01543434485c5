import type { KeyUsage } from "@osad2/keys";
import { DEFAULT_PROXY_PORT } from "@osad2/protocol";
import type { SystemRecord } from "../db/diagnosis-queries.js";
import { describeActions, type ThrottleView } from "./doctor-actions.js";
import type { DoctorLink, DoctorReport } from "./doctor-types.js";
import type { LiveConnection, LiveFailure, LiveState } from "./live-types.js";
import type { DoctorSources, KeyFile } from "./ports.js";

/** Failures shown at most. */
const MAX_FAILURES = 10;

/** Key usage: the running server's (fresher) over key-usage.json's. */
function usageOf(sources: DoctorSources): Map<string, KeyUsage> {
  const merged = new Map(sources.usage);
  for (const [name, usage] of Object.entries(sources.live?.usage ?? {})) merged.set(name, usage);
  return merged;
}

function latest<T>(items: readonly T[], at: (item: T) => string | null): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (best === undefined || (at(item) ?? "") > (at(best) ?? "")) best = item;
  }
  return best;
}

/** Which systems the reference names: server id, profile, push client, key name, or an old client name the server still sees. */
async function resolve(
  sources: DoctorSources,
  reference: string,
  usage: ReadonlyMap<string, KeyUsage>,
): Promise<SystemRecord[]> {
  const found = new Map<number, SystemRecord>();
  for (const system of await sources.database.findSystems(reference))
    found.set(system.serverId, system);
  const ids = new Set<number>();
  const keyUsage = usage.get(reference);
  if (keyUsage?.serverId != null) ids.add(keyUsage.serverId);
  for (const entry of usage.values()) {
    if (entry.clientName === reference && entry.serverId !== null) ids.add(entry.serverId);
  }
  for (const id of found.keys()) ids.delete(id);
  if (ids.size > 0) {
    for (const system of await sources.database.systemsById([...ids]))
      found.set(system.serverId, system);
  }
  return [...found.values()];
}

function unknown(reference: string, message: string): DoctorReport {
  return {
    reference,
    verdict: "unknown-system",
    message,
    system: null,
    pushClient: null,
    key: null,
    serverRunning: false,
    connection: null,
    links: [],
    broken: null,
    actions: [],
    lastNotification: null,
    failures: [],
  };
}

function ago(now: Date, iso: string | null): string {
  if (iso === null) return "never";
  const seconds = Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
  return seconds < 120
    ? `${seconds.toFixed(1)} s ago`
    : `${Math.round(seconds / 60)} min ago (${iso})`;
}

/**
 * `osad2-server doctor SYSTEM`: walks the chain from the Spacewalk system to a push that
 * reaches it and stops at the first broken link, saying the fix. Reads only.
 */
export async function diagnose(sources: DoctorSources, reference: string): Promise<DoctorReport> {
  const { live, now, keys } = sources;
  const usage = usageOf(sources);
  const systems = await resolve(sources, reference, usage);
  if (systems.length === 0) {
    const keyFile = keys.byName(reference);
    return unknown(
      reference,
      keyFile === undefined
        ? `no system ${JSON.stringify(reference)}: not a server id, profile name (rhnServer.name), push client name (rhnPushClient.name) or client key name (public_keys/NAME.key)`
        : `key ${reference} (${keyFile.path}) has not been used by any system this server saw (no verified hello with it yet)`,
    );
  }
  if (systems.length > 1) {
    return unknown(
      reference,
      `${JSON.stringify(reference)} matches ${systems.length} systems (${systems
        .map((s) => `${s.serverId} ${s.profileName}`)
        .join(", ")}): give the server id`,
    );
  }
  const system = systems[0] as SystemRecord;
  const pc = system.pushClient;
  const links: DoctorLink[] = [];
  let broken = false;
  const add = (link: DoctorLink): boolean => {
    links.push(link);
    if (link.status === "broken") broken = true;
    return !broken;
  };
  const settings = live?.settings ?? sources.settings;
  const silentAfterMs = settings.pingIntervalMs * settings.missedPings;

  // The system's key: the one its current client's connection used, else the last one seen for it.
  const ownConnections = (live?.connections ?? []).filter(
    (c) => pc !== null && c.clientName === pc.name,
  );
  const own = latest(ownConnections, (c) => c.lastMessage);
  let keyName: string | null = own?.key.kind === "known" ? own.key.keyName : null;
  if (keyName === null) {
    const candidates = [...usage].filter(([, u]) => u.serverId === system.serverId);
    keyName = latest(candidates, ([, u]) => u.lastSeen)?.[0] ?? null;
    if (keyName === null && keys.byName(reference) !== undefined) keyName = reference;
  }
  // The file of the key its connection actually uses (an old, retiring one after a re-issue), else by name.
  const ownKey = own?.key.kind === "known" ? keys.byPublicKey(own.key.publicKey) : undefined;
  const keyFile: KeyFile | undefined =
    ownKey ?? (keyName === null ? undefined : keys.byName(keyName));
  const keyUsage = keyName === null ? undefined : usage.get(keyName);
  // The connection its key speaks on, when its own name has none (a stale name); only one
  // attributed to that key for certain: an ambiguous one may be another system's.
  const byKey =
    keyName === null
      ? undefined
      : latest(
          (live?.connections ?? []).filter(
            (c) => c.key.kind === "known" && c.key.keyName === keyName,
          ),
          (c) => c.lastMessage,
        );
  const connection = own ?? byKey ?? null;
  const names = new Set(
    [pc?.name, connection?.clientName, keyUsage?.clientName].filter((n) => n != null),
  );
  const addresses = new Set([connection?.address, keyUsage?.address].filter((a) => a != null));
  const seen = new Set<string>();
  const failures: LiveFailure[] = (live?.failures ?? [])
    .filter(
      (f) =>
        (keyName !== null && f.keyName === keyName) ||
        (keyFile !== undefined && f.publicKey === keyFile.publicKey) ||
        (f.clientName !== null && names.has(f.clientName)) ||
        // By address only when no known key says whose it was (several systems may share one).
        (f.address !== null && f.keyName === null && addresses.has(f.address)),
    )
    .filter((f) => {
      // Both sockets refuse the same handshake at once: one line.
      const id = `${f.at} ${f.reason} ${f.address ?? ""} ${f.publicKey ?? ""} ${f.clientName ?? ""}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .slice(-MAX_FAILURES);
  const failureNote =
    failures.length === 0
      ? ""
      : `; recent refusals: ${[...new Set(failures.map((f) => f.reason))].join(", ")} (last ${ago(now, (failures[failures.length - 1] as LiveFailure).at)})`;

  add({
    link: "system",
    status: "ok",
    summary: `system ${system.serverId} "${system.profileName}" in rhnServer`,
  });
  if (
    add(
      pc === null
        ? {
            link: "push-client",
            status: "broken",
            problem: "no-push-client",
            summary:
              "no push client in rhnPushClient: osad2-client on the system has not registered (register_osad)",
            fix: "install and start osad2-client on the system (systemctl enable --now osad2-client); it registers at start",
          }
        : {
            link: "push-client",
            status: "ok",
            summary: `push client ${pc.name} (${pc.state} in rhnPushClient, registered ${pc.modified?.toISOString() ?? "?"})`,
          },
    )
  ) {
    if (keyName === null) {
      add({
        link: "key",
        status: "unknown",
        summary:
          "no key seen for this system yet (the server learns it from the client's first verified hello)",
      });
    } else if (keyFile === undefined) {
      add({
        link: "key",
        status: "broken",
        problem: "key-missing",
        summary: `key ${keyName} was used by this system but is in neither public_keys/ nor revoked/`,
        fix: `issue one: osad2-packager createclient --name ${keyName} --force, then install the RPM on the system`,
      });
    } else if (keyFile.revoked) {
      add({
        link: "key",
        status: "broken",
        problem: "key-revoked",
        summary: `key ${keyName} is revoked (${keyFile.path})${failureNote}`,
        fix: `if revoking was a mistake, move ${keyFile.path} back to public_keys/${keyName}.key; otherwise issue a new key (osad2-packager createclient --name ${keyName} --force) and install the RPM on the system`,
      });
    } else {
      const retiring =
        keyFile.retiringUntil === undefined
          ? ""
          : `, retiring: allowed until ${keyFile.retiringUntil} or until the re-issued key in public_keys/ first connects (install the new RPM)`;
      add({
        link: "key",
        status: "ok",
        summary: `key ${keyName} allowed (${keyFile.path}${retiring})`,
      });
    }
  }
  if (!broken) serverLink(live, add);
  if (!broken && pc !== null && live !== null) {
    connectionLinks({
      live,
      pc,
      own,
      byKey,
      keyName,
      keyUsage,
      now,
      silentAfterMs,
      failureNote,
      add,
    });
  }

  const actions = await describeActions(sources, system.serverId, pc?.name ?? null, () =>
    throttleView(sources, live, system.serverId),
  );
  const notification = latest(
    (live?.notifications ?? []).filter((n) => n.serverId === system.serverId),
    (n) => n.at,
  );
  let lastNotification: DoctorReport["lastNotification"] = null;
  if (notification !== undefined) {
    const statuses = await sources.database.actionStatuses(system.serverId, notification.actionIds);
    lastNotification = {
      at: notification.at,
      clientName: notification.clientName,
      actionIds: notification.actionIds,
      pickups: notification.actionIds.map((actionId) => {
        const row = statuses.find((s) => s.actionId === actionId);
        return {
          actionId,
          status: row?.status ?? null,
          pickedUp: row !== undefined && row.status !== 0,
          pickupTime: row?.pickupTime?.toISOString() ?? null,
        };
      }),
    };
  }
  const brokenLink = links.find((l) => l.status === "broken");
  return {
    reference,
    verdict: brokenLink === undefined ? "pushable" : "not-pushable",
    system: { serverId: system.serverId, profileName: system.profileName },
    pushClient:
      pc === null
        ? null
        : {
            name: pc.name,
            state: pc.state,
            lastMessageTime: pc.lastMessageTime?.toISOString() ?? null,
            modified: pc.modified?.toISOString() ?? null,
          },
    key:
      keyName === null
        ? null
        : {
            name: keyName,
            path: keyFile?.path ?? null,
            revoked: keyFile?.revoked ?? false,
            lastSeen: keyUsage?.lastSeen ?? null,
            address: keyUsage?.address ?? null,
          },
    serverRunning: live !== null,
    connection,
    links,
    broken: brokenLink?.link ?? null,
    actions,
    lastNotification,
    failures,
  };
}

function serverLink(live: LiveState | null, add: (link: DoctorLink) => boolean): void {
  add(
    live === null
      ? {
          link: "server",
          status: "broken",
          problem: "server-not-running",
          summary:
            "osad2-server is not running (nothing answers on its control socket in state_dir)",
          fix: "start it: systemctl start osad2-server (journalctl -u osad2-server says why it stopped)",
        }
      : live.settings.role === "standby"
        ? {
            link: "server",
            status: "broken",
            problem: "server-standby",
            summary: `this osad2-server (pid ${live.pid}) is a standby: another server holds the notifying role (PostgreSQL advisory lock), and clients connect to that one`,
            fix: "run osad2-server doctor on the active server (osad2-server status shows each server's role); this one takes over by itself if the active one stops",
          }
        : {
            link: "server",
            status: "ok",
            summary: `osad2-server running (pid ${live.pid}, since ${live.startedAt}${live.settings.role === "active" ? ", active" : ""})`,
          },
  );
}

function connectionLinks(input: {
  live: LiveState;
  pc: NonNullable<SystemRecord["pushClient"]>;
  own: LiveConnection | undefined;
  byKey: LiveConnection | undefined;
  keyName: string | null;
  keyUsage: KeyUsage | undefined;
  now: Date;
  silentAfterMs: number;
  failureNote: string;
  add: (link: DoctorLink) => boolean;
}): void {
  const { live, pc, own, byKey, keyName, keyUsage, now, silentAfterMs, failureNote, add } = input;
  const ports = `ports ${live.settings.publisherPort} (PUB) and ${live.settings.listenerPort} (ROUTER)`;
  if (own === undefined) {
    if (
      byKey !== undefined &&
      byKey.clientName !== null &&
      byKey.clientName !== pc.name &&
      byKey.goodbye === null
    ) {
      add({
        link: "connection",
        status: "broken",
        problem: "stale-name",
        summary: `the client connected with key ${keyName ?? "?"} (from ${byKey.address ?? "?"} since ${byKey.since}, last heard ${ago(now, byKey.lastMessage)}) speaks as push client ${byKey.clientName}, but this system's push client is now ${pc.name} (rhnPushClient changed ${pc.modified?.toISOString() ?? "?"}): a second register_osad renamed it and the running client still uses the old name${failureNote}`,
        fix: "restart osad2-client on the system (systemctl restart osad2-client) so it registers again; if it recurs, look for another process or a cloned systemid registering this system",
      });
      return;
    }
    const lastSeen = keyUsage?.lastSeen ?? pc.lastMessageTime?.toISOString() ?? null;
    add({
      link: "connection",
      status: "broken",
      problem: "not-connected",
      summary: `no connection from this system's client (last seen ${ago(now, lastSeen)}${keyUsage?.address == null ? "" : ` from ${keyUsage.address}`})${failureNote}`,
      fix: `start osad2-client on the system (systemctl status osad2-client); check that it reaches this server's ${ports} (firewall)`,
    });
    return;
  }
  if (own.goodbye !== null) {
    add({
      link: "connection",
      status: "broken",
      problem: "said-goodbye",
      summary: `the client stopped cleanly ${ago(now, own.goodbye)} (signed goodbye)`,
      fix: "start osad2-client on the system: systemctl start osad2-client",
    });
    return;
  }
  if (own.via !== undefined && !proxyLink(live, own, now, add)) return;
  const silentFor = now.getTime() - Date.parse(own.lastMessage);
  if (silentFor > silentAfterMs) {
    add({
      link: "connection",
      status: "broken",
      problem: "silent",
      summary: `the client's connection (from ${own.address ?? "?"}) has been silent since ${own.lastMessage}${failureNote}`,
      fix: `check osad2-client on the system (systemctl status osad2-client) and the network to this server's ${ports}`,
    });
    return;
  }
  const keyNote =
    own.key.kind === "ambiguous"
      ? `; key ambiguous: one of ${own.key.candidates.map((c) => c.keyName ?? c.publicKey).join(", ")}${own.key.others === undefined ? "" : ` and ${own.key.others} more`} (they connected at the same moment)`
      : own.key.kind === "unknown"
        ? "; key not known (connected before this server started)"
        : "";
  const sub = latest(
    live.subscribers.filter((s) => keyName !== null && s.keyName === keyName),
    (s) => s.at,
  );
  add({
    link: "connection",
    status: "ok",
    summary: `${own.via === undefined ? "ROUTER connection" : `connection through proxy ${own.via.join("/")}`} from ${own.address ?? "?"} since ${own.since}${sub === undefined ? "" : `; SUB connection from ${sub.address} since ${sub.at}`}${keyNote}`,
  });
  const pongOk = own.lastPong !== null && now.getTime() - Date.parse(own.lastPong) <= silentAfterMs;
  if (
    !add(
      pongOk
        ? { link: "pong", status: "ok", summary: `last signed pong ${ago(now, own.lastPong)}` }
        : {
            link: "pong",
            status: "broken",
            problem: "no-pong",
            summary: `no signed pong ${own.lastPong === null ? "yet" : `since ${own.lastPong}`}: the client's SUB connection does not receive this server's pings`,
            fix: `check that the system reaches port ${live.settings.publisherPort} (PUB) and the client's log (journalctl -u osad2-client)`,
          },
    )
  )
    return;
  if (
    !add(
      own.subscriptionProven
        ? {
            link: "subscription",
            status: "ok",
            summary: "subscription proven (a pong came after its last hello)",
          }
        : {
            link: "subscription",
            status: "broken",
            problem: "subscription-unproven",
            summary: `no pong since its last hello (${own.lastHello ?? "?"}): its SUB subscription is not proven yet`,
            fix: "wait one ping_interval; if it stays so, restart osad2-client on the system",
          },
    )
  )
    return;
  add(
    live.online.includes(pc.name)
      ? {
          link: "presence",
          status: "ok",
          summary: "online as presence knows it (the dispatcher addresses it)",
        }
      : {
          link: "presence",
          status: "broken",
          problem: "not-online",
          summary:
            "answering, but not online in this server's presence yet (a write pending or failing)",
          fix: "check the server log for database errors (journalctl -u osad2-server)",
        },
  );
}

/**
 * The proxy path of a connection behind proxies: its first proxy must be linked to this
 * server (the others are linked to their parents, which this server cannot see), and the
 * connection must not have been cut with a link. False when broken.
 */
function proxyLink(
  live: LiveState,
  own: LiveConnection,
  now: Date,
  add: (link: DoctorLink) => boolean,
): boolean {
  const via = own.via ?? [];
  const path = via.join("/");
  const top = via[0] ?? "?";
  const linked = (live.proxies ?? []).find((p) => p.name === top);
  if (linked === undefined) {
    return add({
      link: "proxy",
      status: "broken",
      problem: "proxy-not-connected",
      summary: `proxy ${top} not connected: this system's client connects through ${path}, and ${top} has no link to this server (the client was last heard ${ago(now, own.lastMessage)})`,
      fix: `check osad2-proxy on ${top} (systemctl status osad2-proxy; journalctl -u osad2-proxy) and that it reaches this server's proxy_port ${live.settings.proxyPort ?? DEFAULT_PROXY_PORT} (firewall)`,
    });
  }
  if (own.closed === true) {
    return add({
      link: "proxy",
      status: "broken",
      problem: "proxy-connection-cut",
      summary: `the client's connection through ${path} ended with its proxy's link (proxy ${top} is linked again since ${linked.since}); a signed hello brings it back`,
      fix: `wait a few seconds; if it stays so, check osad2-client on the system and osad2-proxy on ${path.split("/").join(", ")}`,
    });
  }
  return add({
    link: "proxy",
    status: "ok",
    summary: `through proxy ${path}: proxy ${top} linked since ${linked.since} (${linked.connections} connection(s))`,
  });
}

async function throttleView(
  sources: DoctorSources,
  live: LiveState | null,
  serverId: number,
): Promise<ThrottleView> {
  const notifyThreshold = (live?.settings ?? sources.settings).notifyThreshold;
  const running =
    notifyThreshold === 0 ? new Set<number>() : new Set(await sources.database.runningSystems());
  return {
    running,
    asked: live?.asked ?? 0,
    notifyThreshold,
    announced: new Set(
      (live?.notifications ?? [])
        .filter((n) => n.serverId === serverId)
        .flatMap((n) => n.actionIds),
    ),
  };
}
