import type { Deployment } from "@osad2/testkit";

/** A few of the server's own Prometheus gauges (heap, event-loop lag, clients online). */
export type ServerMetrics = Record<string, number>;

const WANTED = [
  "osad2_clients_online",
  "osad2_notifications_published_total",
  "osad2_auth_failures_total",
  "osad2_poll_errors_total",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
  "nodejs_eventloop_lag_mean_seconds",
  "nodejs_eventloop_lag_max_seconds",
];

/** Reads /metrics of the deployment's server; an empty object when it does not answer. */
export async function serverMetrics(deployment: Deployment): Promise<ServerMetrics> {
  try {
    const res = await fetch(`http://127.0.0.1:${deployment.ports.metrics}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    const out: ServerMetrics = {};
    for (const line of text.split("\n")) {
      const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (!m || !WANTED.includes(m[1] as string)) continue;
      const key = `${m[1]}${m[2] ?? ""}`;
      out[key] = Number(m[3]);
    }
    return out;
  } catch {
    return {};
  }
}
