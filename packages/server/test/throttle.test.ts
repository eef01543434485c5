import { describe, expect, it } from "vitest";
import { DATABASE_KINDS, waitFor } from "@osad2/test-helpers";
import { scheduleAction, setServerActionStatus } from "../src/testing/index.js";
import type { NotifiedEvent } from "../src/dispatch/ports.js";
import { connectClient, type OnlineClient, useServerHarness } from "./core-fixtures.js";

const THRESHOLD = 3;
const SYSTEMS = 5 * THRESHOLD;
/** How long the emulated rhn_check keeps its action picked up (status 1) before completing it. */
const HOLD_MS = 300;

describe.each(DATABASE_KINDS)("notify_threshold as osa-dispatcher applies it (%s)", (kind) => {
  const h = useServerHarness(kind);

  it(`a mass action to ${SYSTEMS} systems never has more than ${THRESHOLD} running at once, and all complete`, async () => {
    // Rounds far more often than rhn_check takes: a throttle that freed a slot at pickup would overrun.
    const s = await h.server({ notifyThreshold: THRESHOLD, actionPollInterval: 0.05 });
    const systems: OnlineClient[] = [];
    for (let i = 0; i < SYSTEMS; i++) {
      const sys = await h.registered();
      const client = connectClient(s, h.keys, sys.name, sys.keyPair);
      h.clients.push(client);
      systems.push({ ...sys, client });
    }
    for (const sys of systems) {
      await waitFor("online", async () => (await h.store.findClient(sys.name))?.state === "online");
    }
    const runningNow = async () =>
      Number(
        (
          await h.db.query(
            "SELECT count(DISTINCT server_id) AS n FROM rhnserveraction WHERE status = 1",
          )
        )[0]?.n,
      );

    // rhn_check, emulated with the writes it makes: queue.get picks the action up (status 1),
    // the run takes HOLD_MS, submit completes it (status 2). Once per system.
    let maxRunning = 0;
    const started = new Set<number>();
    const runs: Promise<void>[] = [];
    let actionId = 0;
    s.on("notified", (event: NotifiedEvent) => {
      if (started.has(event.serverId) || !event.actionIds.includes(actionId)) return;
      started.add(event.serverId);
      runs.push(
        (async () => {
          await setServerActionStatus(h.store, {
            serverId: event.serverId,
            actionId,
            status: 1,
          });
          maxRunning = Math.max(maxRunning, await runningNow());
          await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
          await setServerActionStatus(h.store, {
            serverId: event.serverId,
            actionId,
            status: 2,
          });
        })(),
      );
    });
    actionId = await scheduleAction(h.store, { serverIds: systems.map((x) => x.serverId) });

    await waitFor("every system ran the action", () => started.size === SYSTEMS, {
      timeoutMs: 60_000,
    });
    await Promise.all(runs);
    const completed = await h.db.query(
      `SELECT count(*) AS n FROM rhnserveraction WHERE action_id = ${actionId} AND status = 2`,
    );
    expect(Number(completed[0]?.n)).toBe(SYSTEMS);
    expect(maxRunning).toBeLessThanOrEqual(THRESHOLD);
    // The throttle was used to the full, not by accident one at a time.
    expect(maxRunning).toBe(THRESHOLD);
  });
});
