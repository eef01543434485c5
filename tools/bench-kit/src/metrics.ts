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
  "nodejs_heap_size_used_bytes",
  "nodejs_heap_size_total_bytes",
  "nodejs_external_memory_bytes",
  "osad2_db_statements_total",
  "osad2_refused_messages_total",
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

/**
 * The server's event-loop lag over a phase: scrapes /metrics every `everyMs` and keeps the
 * largest nodejs_eventloop_lag_max_seconds (prom-client resets its histogram at each scrape, so
 * each reading is the worst delay since the previous one). Scrapes that fail (server not up yet)
 * are skipped.
 */
export class EventLoopLagSampler {
  private maxSeconds = 0;
  private scrapes = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly deployment: Deployment,
    private readonly everyMs = 500,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.scrape(), this.everyMs);
    return this;
  }

  private async scrape(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const lag = (await serverMetrics(this.deployment)).nodejs_eventloop_lag_max_seconds;
      if (lag !== undefined) {
        this.scrapes++;
        this.maxSeconds = Math.max(this.maxSeconds, lag);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Stops; the largest lag seen (ms) and how many scrapes answered. */
  stop(): { maxMs: number | null; scrapes: number } {
    clearInterval(this.timer);
    return {
      maxMs: this.scrapes > 0 ? Math.round(this.maxSeconds * 10_000) / 10 : null,
      scrapes: this.scrapes,
    };
  }
}
