import net from "node:net";
import { describe, expect, it } from "vitest";
import { scheduleAction } from "../src/testing/index.js";
import type { DbErrorEvent } from "../src/telemetry/events.js";
import { freePort, waitFor } from "@osad2/test-helpers";
import { useServerHarness } from "./core-fixtures.js";

/**
 * A TCP relay to the machine's PostgreSQL: cutting it is a real outage for the server under
 * test (connections die, new ones are refused) without touching PostgreSQL itself.
 */
class PgRelay {
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();
  constructor(readonly port: number) {}

  async up(): Promise<void> {
    const server = net.createServer((inbound) => {
      const outbound = net.connect(5432, "127.0.0.1");
      for (const s of [inbound, outbound]) {
        this.open.add(s);
        s.on("close", () => this.open.delete(s));
        s.on("error", () => undefined);
      }
      inbound.pipe(outbound).pipe(inbound);
      inbound.on("close", () => outbound.destroy());
      outbound.on("close", () => inbound.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.open) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("on PostgreSQL: NOTIFY wake-up and database outages", () => {
  let relay: PgRelay | undefined;
  const h = useServerHarness("postgres", {
    async afterServersStop() {
      await relay?.down();
      relay = undefined;
    },
  });

  it("wakes on the trigger's NOTIFY (poll 1 h) and again after its connections are killed", async () => {
    // The next poll is an hour away: whatever arrives within the test came by NOTIFY (or, after
    // the kill, the wake-up connection's catch-up); tools/bench reports how fast.
    const pollMs = 3_600_000;
    const s = await h.server(
      { actionPollInterval: pollMs / 1000, renotifyInterval: 3600 },
      { prepare: { notifyTrigger: true } },
    );
    const { serverId, client } = await h.onlineClient(s);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = client.checkins;
      const t0 = Date.now();
      await scheduleAction(h.store, { serverIds: [serverId] });
      await waitFor("checkin via NOTIFY", () => client.checkins > before);
      delays.push(Date.now() - t0);
    }
    expect(Math.max(...delays)).toBeLessThan(pollMs);

    expect(await h.db.terminateConnections()).toBeGreaterThan(0);
    const before = client.checkins;
    await scheduleAction(h.store, { serverIds: [serverId] });
    await waitFor("checkin after pg_terminate_backend", () => client.checkins > before);
  });

  it("keeps running through an outage, reports unhealthy, and delivers what was queued meanwhile", async () => {
    relay = new PgRelay(await freePort());
    await relay.up();
    const metricsPort = await freePort();
    const viaRelay = h.db.url.replace("127.0.0.1:5432", `127.0.0.1:${relay.port}`);
    expect(viaRelay).not.toBe(h.db.url);
    const s = await h.server({ database: viaRelay, actionPollInterval: 0.3, metricsPort });
    const errors: DbErrorEvent[] = [];
    s.on("db-error", (e) => errors.push(e));
    const { serverId, client } = await h.onlineClient(s);
    const healthz = async () => {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
      return { status: response.status, body: (await response.json()) as { db: { ok: boolean } } };
    };
    expect((await healthz()).status).toBe(200);

    await relay.down();
    await waitFor("poll errors reported", () => errors.some((e) => e.operation === "poll"));
    const unhealthy = await healthz();
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body.db.ok).toBe(false);
    // Queued while the server cannot see the database (Spacewalk writes through its own connection).
    const queued = await scheduleAction(h.store, { serverIds: [serverId] });
    // Still publishing: presence pings go on without the database.
    const pings = client.pings;
    await waitFor("pings during the outage", () => client.pings >= pings + 3);
    expect(client.checkins).toBe(0);

    await relay.up();
    await waitFor("queued action delivered after the outage", () => client.checkins >= 1);
    expect((await healthz()).status).toBe(200);
    expect(errors.every((e) => e.error instanceof Error)).toBe(true);
    expect(queued).toBeGreaterThan(0);
  });
});
