import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

// What users get: the built entry points and the packed file list (test depends on build).
describe("published package", () => {
  it("the built dist exports the curated API", async () => {
    const api = (await import(path.join(root, "dist", "index.js"))) as Record<string, unknown>;
    for (const name of [
      "createServer",
      "resolveServerConfig",
      "loadServerConfig",
      "SERVER_CONFIG_SCHEMA",
      "openStore",
      "signSystemId",
      "ConfigError",
      "DatabaseUnavailableError",
      "UnknownClientError",
    ]) {
      expect(api[name], name).toBeDefined();
    }
    expect(typeof api.createServer).toBe("function");
    // Seeding is not part of the server's API: it has its own entry.
    for (const name of ["createSystem", "scheduleAction", "setServerActionStatus", "SeedError"]) {
      expect(api[name], name).toBeUndefined();
    }
  });

  it("the built testing entry exports the seeding calls", async () => {
    const testing = (await import(path.join(root, "dist", "testing.js"))) as Record<
      string,
      unknown
    >;
    for (const name of ["createSystem", "scheduleAction", "setServerActionStatus", "SeedError"]) {
      expect(typeof testing[name], name).toBe("function");
    }
  });

  it("the tarball ships dist (with the CLI and types), the systemd unit and the monitoring files", async () => {
    const { stdout } = await promisify(execFile)(
      "npm",
      ["pack", "--dry-run", "--json", "--ignore-scripts"],
      {
        cwd: root,
      },
    );
    const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    for (const file of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli.js",
      "dist/testing.js",
      "dist/testing.d.ts",
      "dist/systemd/osad2-server.service",
      "dist/monitoring/grafana-dashboard.json",
      "dist/monitoring/alerts.rules.yml",
      "dist/monitoring/alerts.test.yml",
      "README.md",
    ]) {
      expect(files).toContain(file);
    }
    expect(
      files.filter((f) => !(f.startsWith("dist/") || f === "README.md" || f === "package.json")),
    ).toEqual([]);
  });
});
