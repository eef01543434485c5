import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MONITORING_DIR, monitoringMetricNames, promtool } from "./metrics-scrape.js";

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: { refId: string; expr: string; datasource: { uid: string } }[];
}

const dashboard = JSON.parse(
  readFileSync(path.join(MONITORING_DIR, "grafana-dashboard.json"), "utf8"),
) as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string }[] } };

describe("shipped monitoring: Prometheus alert rules and the Grafana dashboard", () => {
  it("the alert rules pass promtool check rules and their unit tests (promtool test rules)", async () => {
    const check = await promtool(["check", "rules", "alerts.rules.yml"]);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.code).toBe(0);
    const test = await promtool(["test", "rules", "alerts.test.yml"]);
    expect(test.output).toContain("SUCCESS");
    expect(test.code).toBe(0);
  });

  it("the alert rules' unit tests cover the main alerts", () => {
    const tests = readFileSync(path.join(MONITORING_DIR, "alerts.test.yml"), "utf8");
    for (const alert of [
      "Osad2ServerDown",
      "Osad2NoClientsOnline",
      "Osad2CheckinLatencyHigh",
      "Osad2HandshakeFailuresBurst",
    ]) {
      expect(tests).toContain(`alertname: ${alert}`);
    }
  });

  it("the dashboard is an importable Grafana dashboard over the data source variable", () => {
    expect(dashboard.uid).toBe("osad2-server");
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(["datasource", "job", "instance"]);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const graphs = dashboard.panels.filter((panel) => panel.type !== "row");
    expect(graphs.length).toBeGreaterThanOrEqual(12);
    for (const panel of graphs) {
      expect(panel.datasource?.uid, panel.title).toBe("${datasource}");
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toMatch(/instance=~"\$instance"/);
        expect(target.datasource.uid).toBe("${datasource}");
      }
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    // What an administrator looks for first.
    const used = monitoringMetricNames();
    for (const name of [
      "osad2_notifications_published_total",
      "osad2_checkin_latency_seconds_bucket",
      "osad2_clients_online",
      "osad2_due_actions",
      "osad2_throttled_systems",
      "osad2_in_flight_systems",
      "osad2_auth_failures_total",
      "osad2_poll_errors_total",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
    ]) {
      expect(used, name).toContain(name);
    }
  });
});
