import { describe, expect, it } from "vitest";
import { freePort, waitFor } from "@osad2/test-helpers";
import { scheduleAction, setServerActionStatus } from "../src/testing/index.js";
import { connectClient, metricSum, useServerHarness } from "./core-fixtures.js";
import {
  monitoringMetricNames,
  promtool,
  sampleNames,
  sampleValue,
  scrape,
} from "./metrics-scrape.js";

const STANDARD = [
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "process_start_time_seconds",
  "process_open_fds",
  "process_max_fds",
  "process_virtual_memory_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_eventloop_lag_p99_seconds",
  "nodejs_version_info",
];

describe("/metrics of a running server with clients and pushes (SQLite)", () => {
  const h = useServerHarness("sqlite");

  it("is promtool-clean, names the standard metrics as stock dashboards do, and its gauges and latency follow the work", async () => {
    const metricsPort = await freePort();
    const s = await h.server(
      { metricsPort, notifyThreshold: 1, actionPollInterval: 0.2 },
      { processMetrics: true },
    );
    const a = await h.onlineClient(s);
    const b = await h.onlineClient(s);
    const metrics = () => scrape(metricsPort);
    const value = async (name: string) => metricSum(await metrics(), name);
    // The store's statements are counted: the polls (every 0.2 s here) alone add several a second.
    const statements = await value("osad2_db_statements_total");
    await waitFor(
      "statements counted",
      async () => (await value("osad2_db_statements_total")) >= statements + 5,
    );

    // Spacewalk's UI sets earliest_action to when the schedule page was opened: minutes
    // before rhnAction.created. Only the time since it was scheduled is the push's latency.
    const x = await scheduleAction(h.store, {
      serverIds: [a.serverId],
      earliest: new Date(Date.now() - 120_000),
    });
    await waitFor("a's checkin", () => a.client.checkins >= 1);
    await waitFor("a in flight", async () => (await value("osad2_in_flight_systems")) === 1);
    let text = await metrics();
    expect(metricSum(text, "osad2_checkin_latency_seconds_count")).toBe(1);
    expect(metricSum(text, "osad2_checkin_latency_seconds_sum")).toBeLessThan(60);
    expect(sampleValue(text, 'osad2_checkin_latency_seconds_bucket{le="60"}')).toBe(1);

    // b's action finds the only slot taken by a (asked, not done): throttled.
    const y = await scheduleAction(h.store, { serverIds: [b.serverId] });
    await waitFor("b throttled", async () => (await value("osad2_throttled_systems")) === 1);
    text = await metrics();
    expect(metricSum(text, "osad2_due_actions")).toBe(2);
    expect(b.client.checkins).toBe(0);

    // rhn_check on a picks x up: no longer in flight, but running, so b still waits.
    await setServerActionStatus(h.store, { serverId: a.serverId, actionId: x, status: 1 });
    await waitFor("a picked up", async () => (await value("osad2_in_flight_systems")) === 0);
    expect(await value("osad2_throttled_systems")).toBe(1);
    expect(await value("osad2_due_actions")).toBe(1);

    // x completes: b gets the slot.
    await setServerActionStatus(h.store, { serverId: a.serverId, actionId: x, status: 2 });
    await waitFor("b's checkin", () => b.client.checkins >= 1);
    await waitFor("b in flight", async () => (await value("osad2_in_flight_systems")) === 1);
    text = await metrics();
    expect(metricSum(text, "osad2_throttled_systems")).toBe(0);
    expect(metricSum(text, "osad2_checkin_latency_seconds_count")).toBe(2);

    // b restarts: it goes offline, reconnects and is caught up on y. That is not a second
    // first announcement (it used to be, measured from earliest_action: minutes, not seconds).
    await b.client.close();
    await waitFor("b offline", async () => (await h.store.findClient(b.name))?.state === "offline");
    const again = connectClient(s, h.keys, b.name, b.keyPair);
    h.clients.push(again);
    await waitFor("b caught up", () => again.checkins >= 1);
    text = await metrics();
    expect(metricSum(text, "osad2_checkin_latency_seconds_count")).toBe(2);
    expect(metricSum(text, "osad2_notifications_published_total")).toBeGreaterThanOrEqual(3);
    expect(y).toBeGreaterThan(x);

    // Clean by promtool's linter, standard names unprefixed, build info present.
    const lint = await promtool(["check", "metrics"], text);
    expect(lint).toEqual({ code: 0, output: "" });
    const names = sampleNames(text);
    for (const name of STANDARD) expect(names, name).toContain(name);
    expect([...names].filter((name) => name.startsWith("osad2_process_"))).toEqual([]);
    expect(text).toMatch(
      /^osad2_build_info\{version="\d+\.\d+\.\d+[^"]*",node_version="v\d+[^"]*",protocol_version="\d+"\} 1$/m,
    );
    expect(metricSum(text, "osad2_clients_online")).toBe(2);
    expect(metricSum(text, "osad2_clients_managed")).toBe(2);

    // Every metric the shipped dashboard and alert rules query exists (they cannot drift);
    // `up` is Prometheus' own.
    const used = [...monitoringMetricNames()].filter((name) => name !== "up");
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !names.has(name))).toEqual([]);
  });
});
