// The server's proxy port: a real server, and in-test proxies speaking the proxy link over a
// real CURVE DEALER, carrying clients that sign as @osad2/client does.
import { describe, expect, it } from "vitest";
import { waitFor } from "@osad2/test-helpers";
import { scheduleAction } from "../src/testing/index.js";
import type { Osad2Server } from "../src/server.js";
import { useServerHarness } from "./core-fixtures.js";
import { allowProxy, LinkPeer } from "./proxy-peer.js";

describe("proxy port: clients carried by a proxy link", () => {
  const h = useServerHarness("sqlite");
  const peers: LinkPeer[] = [];
  const closePeers = async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  };

  async function linkedPeer(s: Osad2Server, proxyName = "dmz"): Promise<LinkPeer> {
    const keyPair = await allowProxy(h.keys.root, proxyName);
    const peer = await LinkPeer.connect({
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
      const s = await h.server({ pingInterval: 0.3 });
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
    } finally {
      await closePeers();
    }
  });
});
