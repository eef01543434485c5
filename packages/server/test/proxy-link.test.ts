// The server's proxy port: a real server, and in-test proxies speaking the proxy link over a
// real CURVE DEALER, carrying clients that sign as @osad2/client does.
import { describe, expect, it } from "vitest";
import { generateKeyPair } from "@osad2/keys";
import { LINK_SILENCE_MS } from "@osad2/protocol";
import { freePort, waitFor } from "@osad2/test-helpers";
import { fetchLiveState } from "../src/diagnostics/control-socket.js";
import { listSystems } from "../src/diagnostics/systems.js";
import { scheduleAction } from "../src/testing/index.js";
import type { Osad2Server } from "../src/server.js";
import { connectClient, metricSum, useServerHarness } from "./core-fixtures.js";
import { scrape } from "./metrics-scrape.js";
import { allowProxy, LinkPeer, revokeProxy, type ProxiedClient } from "./proxy-peer.js";

describe("proxy port: clients carried by a proxy link", () => {
  const h = useServerHarness("sqlite");
  const peers: LinkPeer[] = [];
  const closePeers = async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  };

  async function linkedPeer(s: Osad2Server, proxyName = "dmz"): Promise<LinkPeer> {
    const keyPair = await allowProxy(h.keys.root, proxyName);
    const peer = LinkPeer.connect({
      endpoint: s.endpoints().proxy,
      serverPublicKey: h.keys.server.publicKey,
      keyPair,
      proxyName,
    });
    peers.push(peer);
    await waitFor("linked", () => peer.of("linked").some((m) => m.session === peer.session));
    return peer;
  }

  const online = async (name: string) => (await h.store.findClient(name))?.state === "online";

  it("a proxied client says a signed hello through the link, goes online and gets its checkin as `to`", async () => {
    try {
      const metricsPort = await freePort();
      const s = await h.server({ pingInterval: 0.3, metricsPort, metricsBind: "127.0.0.1" });
      expect(s.endpoints().proxyPort).toBeGreaterThan(0);
      const peer = await linkedPeer(s);
      const { name, serverId, keyPair } = await h.registered();
      const client = await peer.addClient({ conn: "1", name, keyPair });
      await waitFor(`${name} online`, () => online(name));
      expect(client.hellos).toBe(1);
      // Pings reach it on its connection, and its signed pongs keep it online.
      await waitFor("a ping", () => client.count("ping") >= 2);

      await scheduleAction(h.store, { serverIds: [serverId] });
      await waitFor("checkin", () => client.checkins >= 1);
      const checkins = client.received.flatMap((m) => (m.kind === "checkin" ? [m.clientName] : []));
      expect(checkins).toEqual([name]);
      const text = await scrape(metricsPort);
      expect(metricSum(text, "osad2_proxy_links")).toBe(1);
      expect(metricSum(text, 'osad2_proxy_connections{proxy="dmz"}')).toBe(1);
    } finally {
      await closePeers();
    }
  });

  it("300 clients behind one link: all online, each gets exactly its own checkin", async () => {
    try {
      const s = await h.server({ pingInterval: 1, missedPings: 1000 });
      const peer = await linkedPeer(s);
      const systems: { name: string; serverId: number; carried: ProxiedClient }[] = [];
      for (let i = 0; i < 300; i++) {
        const registered = await h.registered();
        const carried = await peer.addClient({
          conn: String(i + 1),
          name: registered.name,
          keyPair: registered.keyPair,
        });
        systems.push({ ...registered, carried });
      }
      await waitFor("all online", async () => {
        const rows = (await h.db.query(
          "SELECT COUNT(*) AS n FROM rhnPushClient WHERE state_id = (SELECT id FROM rhnPushClientState WHERE label = 'online')",
        )) as { n: number }[];
        return Number(rows[0]?.n) === systems.length;
      });
      await scheduleAction(h.store, { serverIds: systems.map((x) => x.serverId) });
      await waitFor("every checkin", () => systems.every((x) => x.carried.checkins >= 1));
      for (const { name, carried } of systems) {
        const checkins = carried.received.flatMap((m) =>
          m.kind === "checkin" ? [m.clientName] : [],
        );
        expect(checkins).toEqual([name]);
      }
    } finally {
      await closePeers();
    }
  });

  it("answers admit? from the allow-lists: client keys from public_keys/, proxy keys from proxies/", async () => {
    try {
      const s = await h.server();
      const peer = await linkedPeer(s);
      const client = await h.registered();
      const stranger = generateKeyPair();
      const child = await allowProxy(h.keys.root, "branch7");
      const asks = [
        { query: "1", keyKind: "client", publicKey: client.keyPair.publicKey },
        { query: "2", keyKind: "client", publicKey: stranger.publicKey },
        // A proxy key is no client key, nor a client key a proxy's.
        { query: "3", keyKind: "client", publicKey: child.publicKey },
        { query: "4", keyKind: "proxy", publicKey: child.publicKey },
        { query: "5", keyKind: "proxy", publicKey: client.keyPair.publicKey },
      ] as const;
      for (const ask of asks) await peer.send({ kind: "admit?", ...ask });
      await waitFor("5 answers", () => peer.of("admit").length === 5);
      const verdicts = Object.fromEntries(peer.of("admit").map((a) => [a.query, a.allow]));
      expect(verdicts).toEqual({ 1: true, 2: false, 3: false, 4: true, 5: false });
    } finally {
      await closePeers();
    }
  });

  it("a client key on the proxy port and a proxy key on the client port are refused at the handshake", async () => {
    try {
      const s = await h.server();
      const failures: (string | undefined)[] = [];
      s.on("auth-failure", (e) => failures.push(e.publicKey));
      const client = await h.registered();
      const intruder = LinkPeer.connect({
        endpoint: s.endpoints().proxy,
        serverPublicKey: h.keys.server.publicKey,
        keyPair: client.keyPair,
        proxyName: "intruder",
      });
      peers.push(intruder);
      const proxyKeys = await allowProxy(h.keys.root, "dmz");
      const asClient = connectClient(s, h.keys, client.name, proxyKeys, { wireVersion: 3 });
      h.clients.push(asClient);
      await waitFor("both refused", () =>
        [client.keyPair.publicKey, proxyKeys.publicKey].every((k) => failures.includes(k)),
      );
      expect(intruder.of("linked")).toEqual([]);
      expect(await online(client.name)).toBe(false);
    } finally {
      await closePeers();
    }
  });

  it("a proxy with a wrong server key fails its handshake, and the server reports it", async () => {
    try {
      const s = await h.server();
      const failures: string[] = [];
      s.on("auth-failure", (e) => failures.push(e.reason));
      const keyPair = await allowProxy(h.keys.root, "dmz");
      const lost = LinkPeer.connect({
        endpoint: s.endpoints().proxy,
        serverPublicKey: generateKeyPair().publicKey,
        keyPair,
        proxyName: "dmz",
      });
      peers.push(lost);
      await waitFor("handshake failure", () => failures.includes("handshake"));
      expect(lost.of("linked")).toEqual([]);
    } finally {
      await closePeers();
    }
  });

  it("a proxy cannot lend a connection to another client: the hello must sign the key the proxy reports", async () => {
    try {
      const metricsPort = await freePort();
      const s = await h.server({ metricsPort, metricsBind: "127.0.0.1" });
      const peer = await linkedPeer(s);
      const victim = await h.registered();
      const forger = await h.registered();
      // The proxy says the connection is the victim's key; the client signed its own key.
      await peer.addClient({
        conn: "7",
        name: forger.name,
        keyPair: forger.keyPair,
        reportedKey: victim.keyPair.publicKey,
      });
      await waitFor("refused as key-mismatch", async () => {
        const text = await scrape(metricsPort);
        return metricSum(text, 'osad2_refused_messages_total{reason="key-mismatch"}') === 1;
      });
      // The same client with the key it really has goes online on the same link.
      const honest = await peer.addClient({
        conn: "8",
        name: forger.name,
        keyPair: forger.keyPair,
      });
      await waitFor("online", () => online(forger.name));
      expect(honest.hellos).toBe(1);
    } finally {
      await closePeers();
    }
  });

  it("garbage on a link is counted and dropped; the link carries on", async () => {
    try {
      const metricsPort = await freePort();
      const s = await h.server({ metricsPort, metricsBind: "127.0.0.1" });
      const peer = await linkedPeer(s);
      const garbage: Buffer[][] = [
        [Buffer.from("nonsense 1 2 3")],
        [Buffer.from("from 1")],
        [Buffer.from([0xff, 0xfe, 0x00])],
        [Buffer.from("open x dmz - -")],
        [Buffer.from("from 99"), Buffer.from("hello-request 3")],
        [Buffer.alloc(4096, 0x41)],
      ];
      for (const frames of garbage) await peer.sendFrames(frames);
      const client = await h.registered();
      const carried = await peer.addClient({
        conn: "1",
        name: client.name,
        keyPair: client.keyPair,
      });
      // A frame the client's own decoder would refuse: counted like a direct client's.
      await carried.say(Buffer.from("not a client message"));
      await waitFor("online", () => online(client.name));
      await waitFor("all counted", async () => {
        const text = await scrape(metricsPort);
        return metricSum(text, "osad2_malformed_messages_total") === garbage.length + 1;
      });
      expect(peer.of("linked").length).toBe(1);
    } finally {
      await closePeers();
    }
  });

  it("a revoked client key reaches every link as `revoked` within 5 s, and its connection is dropped", async () => {
    try {
      // Pings 30 s apart: within the test, only what the server keeps knows who is reachable.
      const s = await h.server({ pingInterval: 30, missedPings: 1000 });
      const offline: string[] = [];
      s.on("offline", (e) => offline.push(e.clientName));
      const a = await linkedPeer(s, "dmz");
      const b = await linkedPeer(s, "branch7");
      const client = await h.registered();
      await a.addClient({ conn: "1", name: client.name, keyPair: client.keyPair });
      const other = await h.registered();
      const stays = await b.addClient({ conn: "1", name: other.name, keyPair: other.keyPair });
      await waitFor("online", async () => (await online(client.name)) && online(other.name));
      const revokedAt = Date.now();
      await h.keys.revoke(client.name);
      for (const peer of [a, b]) {
        await waitFor(
          `revoked on ${peer.proxyName}`,
          () => peer.of("revoked").some((r) => r.publicKey === client.keyPair.publicKey),
          { timeoutMs: 5_000 },
        );
        const at = peer.received.find((r) => r.message.kind === "revoked")?.at ?? Infinity;
        expect(at - revokedAt).toBeLessThan(5_000);
        expect(peer.of("revoked")[0]?.keyKind).toBe("client");
      }
      await waitFor("offline", () => offline.includes(client.name));
      // The client ports were re-bound (direct clients cut); the other proxied client was
      // not, and is still addressed at once (not only after its next pong, 30 s away).
      await scheduleAction(h.store, { serverIds: [other.serverId] });
      await waitFor("checkin of the client that stays", () => stays.checkins >= 1, {
        timeoutMs: 10_000,
      });
      expect(offline).toEqual([client.name]);
    } finally {
      await closePeers();
    }
  });

  it("a silent link is dropped with its clients; when it speaks again it is told to relink, re-announces and its clients are back", async () => {
    try {
      const s = await h.server({ pingInterval: 0.3, missedPings: 1000 });
      const offline: string[] = [];
      s.on("offline", (e) => offline.push(e.clientName));
      const peer = await linkedPeer(s);
      const client = await h.registered();
      const carried = await peer.addClient({
        conn: "1",
        name: client.name,
        keyPair: client.keyPair,
      });
      await waitFor("online", () => online(client.name));
      const firstSession = peer.session;
      // Diagnostics (control socket: doctor, systems) see the proxy and the path.
      const before = await fetchLiveState(s.config.stateDir);
      expect(before?.proxies).toEqual([expect.objectContaining({ name: "dmz", connections: 1 })]);
      const row = listSystems({
        managed: [client.name],
        live: before,
        records: [],
        usage: new Map(),
      }).systems[0];
      expect(row).toMatchObject({ via: "dmz", address: "127.0.0.1", state: "online" });

      // Nothing passes either way, as when the link is cut.
      peer.mute(true);
      const silentSince = Date.now();
      await waitFor("offline after silence", () => offline.includes(client.name), {
        timeoutMs: LINK_SILENCE_MS + 3_000,
      });
      expect(Date.now() - silentSince).toBeGreaterThanOrEqual(LINK_SILENCE_MS - 500);
      const during = await fetchLiveState(s.config.stateDir);
      expect(during?.proxies).toEqual([]);
      expect(during?.connections.find((c) => c.clientName === client.name)).toMatchObject({
        via: ["dmz"],
        closed: true,
      });

      // The old session is unknown now: relink; the peer starts a new one and re-announces.
      peer.mute(false);
      await waitFor(
        "relinked",
        () => peer.session !== firstSession && peer.of("relink").length === 1,
      );
      // The server challenges the re-announced connection: a signed hello brings it back.
      await waitFor("online again", () => online(client.name));
      expect(carried.hellos).toBe(2);
    } finally {
      await closePeers();
    }
  });

  it("a re-announced connection (new link session) is challenged and is online again without a hello-request", async () => {
    try {
      const s = await h.server({ pingInterval: 0.3, missedPings: 1000 });
      const peer = await linkedPeer(s);
      const client = await h.registered();
      const carried = await peer.addClient({
        conn: "1",
        name: client.name,
        keyPair: client.keyPair,
      });
      await waitFor("online", () => online(client.name));
      // A proxy that reconnected (or was relinked): same connection, new session.
      await peer.relink();
      await waitFor("challenged again", () => carried.hellos === 2);
      await waitFor("online", () => online(client.name));
      await scheduleAction(h.store, { serverIds: [client.serverId] });
      await waitFor("checkin on the new session", () => carried.checkins >= 1);
    } finally {
      await closePeers();
    }
  });

  it("a revoked proxy is told to every link, cut from the proxy port and refused when it reconnects", async () => {
    try {
      const s = await h.server();
      const failures: (string | undefined)[] = [];
      s.on("auth-failure", (e) => failures.push(e.publicKey));
      const stays = await linkedPeer(s, "dmz");
      const goes = await linkedPeer(s, "branch7");
      await revokeProxy(h.keys.root, "branch7");
      // Each step has its own bound, so a failure (seen twice in loaded CI runs) names it.
      const step = { timeoutMs: 15_000 };
      await waitFor(
        "revoked proxy told",
        () =>
          stays.of("revoked").some((r) => r.keyKind === "proxy" && r.publicKey === goes.publicKey),
        step,
      );
      // The port was re-bound: the revoked proxy's DEALER reconnects and ZAP refuses it.
      await waitFor("refused on reconnect", () => failures.includes(goes.publicKey), step);
      // The other proxy's next alive is from a new connection: told to relink, it links again.
      await waitFor("linked again", () => stays.of("linked").length >= 2, step);
      expect(stays.of("relink").length).toBeGreaterThanOrEqual(1);
      expect(goes.of("linked").length).toBe(1);
    } finally {
      await closePeers();
    }
  }, 60_000);
});
