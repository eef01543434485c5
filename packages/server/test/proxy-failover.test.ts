// Failover behind a proxy: the proxy's one DEALER connects to every failover server's proxy
// port; when the active server goes, the new active one knows no session, tells the proxy to
// relink, challenges the re-announced connections and delivers what is due.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePorts, waitFor } from "@osad2/test-helpers";
import { parseHostList } from "@osad2/service-kit";
import { scheduleAction } from "../src/testing/index.js";
import { useServerHarness } from "./core-fixtures.js";
import { allowProxy, LinkPeer } from "./proxy-peer.js";

describe("failover behind a proxy (PostgreSQL)", () => {
  const h = useServerHarness("postgres");

  it("the standby taking over relinks the proxy; its clients are back and get their due action within 10 s", async () => {
    const [pubA, listenA, proxyA, pubB, listenB, proxyB] = (await freePorts(6)) as number[];
    const failoverServers = parseHostList(`127.0.0.1:${listenA},127.0.0.1:${listenB}`) ?? [];
    const a = await h.server(
      { publisherPort: pubA, listenerPort: listenA, proxyPort: proxyA, failoverServers },
      { rolePollMs: 200 },
    );
    const b = await h.server(
      {
        publisherPort: pubB,
        listenerPort: listenB,
        proxyPort: proxyB,
        failoverServers,
        stateDir: path.join(h.keys.root, "state-b"),
      },
      { rolePollMs: 200 },
    );
    expect([a.role, b.role]).toEqual(["active", "standby"]);
    const keyPair = await allowProxy(h.keys.root, "dmz");
    const peer = LinkPeer.connect({
      endpoint: [`tcp://127.0.0.1:${proxyA}`, `tcp://127.0.0.1:${proxyB}`],
      serverPublicKey: h.keys.server.publicKey,
      keyPair,
      proxyName: "dmz",
    });
    try {
      await waitFor("linked to A", () => peer.of("linked").length === 1);
      const client = await h.registered();
      const carried = await peer.addClient({
        conn: "1",
        name: client.name,
        keyPair: client.keyPair,
      });
      await waitFor(
        "online",
        async () => (await h.store.findClient(client.name))?.state === "online",
      );

      await a.stop();
      const stoppedAt = Date.now();
      await waitFor("B active", () => b.role === "active", { timeoutMs: 10_000 });
      await scheduleAction(h.store, { serverIds: [client.serverId] });
      // B never heard of the session: relink, re-announce, challenge, hello, catch-up.
      await waitFor("checkin from B", () => carried.checkins >= 1, { timeoutMs: 10_000 });
      expect(peer.of("relink").length).toBeGreaterThanOrEqual(1);
      expect(carried.hellos).toBe(2);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    } finally {
      await peer.close();
    }
  });
});
