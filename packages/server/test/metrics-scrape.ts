import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** packages/server/monitoring: the dashboard and alert rules the package ships. */
export const MONITORING_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "monitoring",
);

/** GET /metrics of a server's metrics port. */
export async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** Runs promtool with `input` on stdin; resolves with its exit code and all it printed. */
export function promtool(
  args: readonly string[],
  input = "",
  cwd = MONITORING_DIR,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(input);
  });
}

/**
 * Names a query can use in a Prometheus text exposition: every sample's, and every declared
 * family's (a labelled counter has no sample before its first increment), histograms with
 * their _bucket, _sum and _count.
 */
export function sampleNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample?.[1] !== undefined) names.add(sample[1]);
    const family = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (family?.[1] === undefined) continue;
    names.add(family[1]);
    if (family[2] === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(family[1] + suffix);
  }
  return names;
}

/** Metric names the shipped dashboard's queries and alert rules' expressions use. */
export function monitoringMetricNames(): Set<string> {
  const dashboard = JSON.parse(
    readFileSync(path.join(MONITORING_DIR, "grafana-dashboard.json"), "utf8"),
  ) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { definition?: string }[] };
  };
  const expressions = [
    ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
    ...dashboard.templating.list.flatMap((variable) => variable.definition ?? []),
  ];
  const rules = readFileSync(path.join(MONITORING_DIR, "alerts.rules.yml"), "utf8");
  // The rules' expressions and annotations may name metrics; both must exist.
  expressions.push(rules.replace(/^\s*#.*$/gm, ""));
  const names = new Set<string>();
  for (const expression of expressions) {
    for (const match of expression.matchAll(/\b((?:osad2|process|nodejs)_[a-z0-9_]+|up)\b/g)) {
      if (match[1] !== undefined) names.add(match[1]);
    }
  }
  return names;
}

/** The value of one sample line, e.g. `osad2_checkin_latency_seconds_bucket{le="60"}`. */
export function sampleValue(text: string, sample: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
