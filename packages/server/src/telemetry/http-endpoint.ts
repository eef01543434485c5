import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@osad2/service-kit";
import type { HealthSource } from "./health.js";
import type { ServerMetrics } from "./metrics.js";

/** Options of {@link startMetricsEndpoint}. */
export interface MetricsEndpointOptions {
  /** Address; `*` = all interfaces. */
  readonly host: string;
  readonly port: number;
  readonly metrics: ServerMetrics;
  /** Answers /healthz. */
  readonly health: HealthSource;
  readonly logger: Logger;
}

/** The running endpoint. */
export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text) and `GET /healthz` (JSON; 200 healthy, 503 not). */
export async function startMetricsEndpoint(
  options: MetricsEndpointOptions,
): Promise<MetricsEndpoint> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const reply = (status: number, type: string, body: string): void => {
      response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      response.end(body);
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      reply(405, "text/plain", "method not allowed\n");
      return;
    }
    const work =
      path === "/metrics"
        ? options.metrics.registry
            .metrics()
            .then((text) => reply(200, options.metrics.registry.contentType, text))
        : path === "/healthz"
          ? options.health
              .health()
              .then((report) =>
                reply(
                  report.healthy ? 200 : 503,
                  "application/json",
                  `${JSON.stringify(report)}\n`,
                ),
              )
          : Promise.resolve(reply(404, "text/plain", "not found: try /metrics or /healthz\n"));
    work.catch((error: unknown) => {
      options.logger.error({ err: error, path }, "metrics endpoint failed");
      if (!response.headersSent) reply(500, "text/plain", "internal error\n");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host === "*" ? undefined : options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
