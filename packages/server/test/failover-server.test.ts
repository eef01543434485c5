// Two real servers on one PostgreSQL schema, in this process: one holds the notifying role,
// the other stands by (healthy, nothing bound) and takes over when the first stops.
import path from "node:path";
import { parseHostList } from "@osad2/service-kit";
import { freePorts, waitFor } from "@osad2/test-helpers";
import { describe, expect, it } from "vitest";
import { failoverEndpoints } from "../src/registration/endpoint.js";
import { scheduleAction } from "../src/testing/index.js";
import { useServerHarness } from "./core-fixtures.js";

describe("failover: two osad2 servers on one PostgreSQL database", () => {
  const h = useServerHarness("postgres");

  it("one active, one standby (healthy, unbound); a clean stop hands the role over", async () => {
    const [pubA, listenA, pubB, listenB] = (await freePorts(4)) as [number, number, number, number];
    const failoverServers = parseHostList(`127.0.0.1:${listenA},127.0.0.1:${listenB}`) ?? [];
    const a = await h.server(
      { publisherPort: pubA, listenerPort: listenA, failoverServers },
      { rolePollMs: 200 },
    );
    const b = await h.server(
      {
        publisherPort: pubB,
        listenerPort: listenB,
        failoverServers,
        stateDir: path.join(h.keys.root, "state-b"),
      },
      { rolePollMs: 200 },
    );
    expect([a.role, b.role]).toEqual(["active", "standby"]);
    const standbyHealth = await b.health();
    expect(standbyHealth).toMatchObject({
      healthy: true,
      role: "standby",
      sockets: { publisher: false, listener: false },
    });
    expect((await a.health()).role).toBe("active");
    expect(b.endpoints()).toMatchObject({ role: "standby", listenerPort: listenB });

    // The standby binds nothing: a client reaches the active one only.
    const online = await h.onlineClient(a);
    expect(online.client).toBeDefined();

    await a.stop();
    await waitFor("B taking the notifying role", () => b.role === "active", { timeoutMs: 10_000 });
    expect(await b.health()).toMatchObject({
      healthy: true,
      role: "active",
      sockets: { publisher: true, listener: true },
    });
    // It notifies: a client online at B gets a checkin for its action.
    const next = await h.onlineClient(b);
    await scheduleAction(h.store, { serverIds: [next.serverId] });
    await waitFor("the checkin from B", () =>
      next.client.received.some((r) => r.message.kind === "checkin"),
    );
  });

  it("lists every failover server's ROUTER in register_osad's reply, its own first", () => {
    const servers = parseHostList("sw1.example.com, sw2.example.com:6000, [::1]") ?? [];
    expect(failoverEndpoints("tcp://sw2.example.com:6000", servers, 5556)).toEqual([
      "tcp://sw2.example.com:6000",
      "tcp://sw1.example.com:5556",
      "tcp://[::1]:5556",
    ]);
    expect(failoverEndpoints("tcp://sw1.example.com:5556", [], 5556)).toEqual([]);
  });
});
