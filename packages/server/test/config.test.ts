import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ConfigError, configDocsTable, flagName, parseIni } from "@osad2/service-kit";
import { tempDir } from "@osad2/test-helpers";
import { describe, expect, it } from "vitest";
import {
  defaultServerConfig,
  loadServerConfig,
  normalizeServerConfig,
  resolveServerConfig,
} from "../src/config/load.js";
import { planReload } from "../src/config/reload.js";
import { SERVER_CONFIG, SERVER_CONFIG_SCHEMA } from "../src/config/schema.js";

/** A `[main]` file as the strict reader parses it. */
const file = (lines: string[], at = "/etc/x.cfg") => parseIni(`${lines.join("\n")}\n`, at);

describe("server configuration", () => {
  it("has the seed's keys and defaults plus osad2's", () => {
    const defaults = defaultServerConfig();
    expect(defaults).toMatchObject({
      bind: "*",
      publisherPort: 5555,
      listenerPort: 5556,
      pingInterval: 10,
      actionPollInterval: 5,
      notifyThreshold: 100,
      certificates: "/etc/rhn/osad2-server/certs",
      logFile: "",
      debug: false,
      database: "sqlite:/var/lib/osad2/osad2.db",
      xmlrpcPort: 5557,
      renotifyInterval: 60,
      renotifyPickedUp: false,
      missedPings: 3,
      metricsPort: 9557,
      metricsBind: "127.0.0.1",
    });
    expect(defaults.publicHost).toBe(os.hostname());
    const keys = Object.keys(SERVER_CONFIG_SCHEMA);
    const seedKeys = [
      "bind",
      "publisher_port",
      "listener_port",
      "ping_interval",
      "action_poll_interval",
      "notify_threshold",
      "certificates",
      "log_file",
      "debug",
      "pidfile",
    ];
    for (const seedKey of seedKeys) expect(keys).toContain(seedKey);
    // The schema says which keys are the seed's, for the README table.
    expect(
      Object.entries(SERVER_CONFIG_SCHEMA)
        .filter(([, spec]) => spec.seed)
        .map(([key]) => key)
        .sort(),
    ).toEqual([...seedKeys].sort());
    expect(flagName("action_poll_interval")).toBe("--action-poll-interval");
  });

  it("reads a seed-style [main] section; unknown keys and other sections are errors naming file and line", () => {
    const seedStyle = [
      "[main]",
      "bind = 127.0.0.1",
      "publisher_port = 6555",
      "ping_interval = 0.2",
      "debug = 1",
      "renotify_picked_up = true",
    ];
    const config = resolveServerConfig({ document: file(seedStyle) });
    expect(config).toMatchObject({
      bind: "127.0.0.1",
      publisherPort: 6555,
      pingInterval: 0.2,
      debug: true,
      renotifyPickedUp: true,
    });
    const unknownKey = caught(() =>
      resolveServerConfig({ document: file([...seedStyle, "jabber_server = old.example.com"]) }),
    );
    expect(unknownKey).toMatchObject({ path: "/etc/x.cfg", line: 7, key: "jabber_server" });
    expect(unknownKey.message).toMatch(
      /^\/etc\/x\.cfg line 7: unknown key "jabber_server" in \[main\]/,
    );
    const otherSection = caught(() =>
      resolveServerConfig({ document: file([...seedStyle, "[other]", "ignored = 1"]) }),
    );
    expect(otherSection).toMatchObject({ path: "/etc/x.cfg", line: 7 });
    expect(otherSection.message).toMatch(/unknown section \[other\]/);
    expect(caught(() => file(["[main", "bind = *"])).message).toMatch(/\/etc\/x\.cfg line 1/);
  });

  it("layers file < OSAD2_DATABASE < flags", () => {
    const document = file(["[main]", "database = sqlite:/from/file.db", "checkin_count = 10"]);
    expect(resolveServerConfig({ document }).database).toBe("sqlite:/from/file.db");
    const env = { OSAD2_DATABASE: "postgres://u@h:5432/env" };
    expect(resolveServerConfig({ document, env }).database).toBe("postgres://u@h:5432/env");
    // checkin_count is the seed's name of notify_threshold.
    expect(resolveServerConfig({ document }).notifyThreshold).toBe(10);
    const flags = { database: "sqlite::memory:", notify_threshold: "0" };
    expect(resolveServerConfig({ document, env, flags })).toMatchObject({
      database: "sqlite::memory:",
      notifyThreshold: 0,
    });
  });

  it("reads notify_threshold as osa-dispatcher does: its own name wins over checkin_count, empty = unlimited", () => {
    const both = file(["[main]", "checkin_count = 10", "notify_threshold = 7"]);
    expect(resolveServerConfig({ document: both }).notifyThreshold).toBe(7);
    const empty = file(["[main]", "notify_threshold ="]);
    expect(resolveServerConfig({ document: empty }).notifyThreshold).toBe(0);
    expect(defaultServerConfig().notifyThreshold).toBe(100);
    // An error in the alias quotes the line as written.
    const error = caught(() =>
      resolveServerConfig({ document: file(["[main]", "checkin_count = 1.5"]) }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/line 2: checkin_count = "1\.5" is not a whole number from 0/);
  });

  it.each([
    ["publisher_port", "70000", /publisher_port = "70000" is not a TCP port \(1-65535\) or 0/],
    ["publisher_port", "55x", /publisher_port = "55x" is not a TCP port/],
    ["ping_interval", "0", /ping_interval = "0" is not a number of seconds from 0\.01/],
    ["ping_interval", "-1", /ping_interval/],
    ["notify_threshold", "1.5", /notify_threshold = "1\.5" is not a whole number from 0/],
    [
      "notify_threshold",
      "-1",
      /notify_threshold = "-1" is not a whole number from 0 to 1000000, or nothing/,
    ],
    ["missed_pings", "0", /missed_pings = "0" is not a whole number from 1/],
    ["debug", "maybe", /debug = "maybe" is not 0 or 1/],
    ["database", "mysql://x", /database = "mysql:\/\/x" is not sqlite:/],
    ["bind", "", /bind = "" is not \* or an IP address or host name/],
  ])("rejects %s = %j naming file, line and key", (key, raw, message) => {
    const error = caught(() =>
      resolveServerConfig({ document: file(["[main]", "# a comment", `${key} = ${raw}`]) }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ key, path: "/etc/x.cfg", line: 3 });
    expect(error.message).toMatch(/^\/etc\/x\.cfg line 3: /);
    expect(error.message).toMatch(message);
  });

  it("checks combinations and library values", () => {
    expect(caught(() => normalizeServerConfig({ tlsCert: "/c.pem" }))).toMatchObject({
      key: "tls_key",
      message: expect.stringMatching(/tls_cert and tls_key must be set together/),
    });
    expect(() => normalizeServerConfig({ publisherPort: 6000, listenerPort: 6000 })).toThrow(
      /listener_port must differ/,
    );
    // In a file, a rule across keys names the line of the key to fix.
    expect(
      caught(() =>
        resolveServerConfig({
          document: file(["[main]", "publisher_port = 6000", "listener_port = 6000"]),
        }),
      ),
    ).toMatchObject({ key: "listener_port", line: 3, path: "/etc/x.cfg" });
    expect(() => normalizeServerConfig({ pingInterval: Number.NaN })).toThrow(/ping_interval/);
    expect(() => normalizeServerConfig({ nonsense: 1 } as never)).toThrow(
      /unknown osad2-server option "nonsense"/,
    );
    expect(() => resolveServerConfig({ flags: { nonsense: "1" } })).toThrow(
      /--nonsense is not an osad2-server setting/,
    );
    const config = normalizeServerConfig({ publisherPort: 0, listenerPort: 0, notifyThreshold: 0 });
    expect(config.notifyThreshold).toBe(0);
    expect(
      planReload(defaultServerConfig(), { ...defaultServerConfig(), missedPings: 5 }),
    ).toMatchObject({ applied: ["missedPings"], restartNeeded: [] });
  });

  it("reads files: the default path may be missing, a named one may not", async () => {
    const dir = await tempDir("osad2-cfg-");
    try {
      const missing = path.join(dir.path, "missing.cfg");
      await expect(loadServerConfig({ path: missing, required: false })).resolves.toEqual(
        defaultServerConfig(),
      );
      const error = await loadServerConfig({ path: missing, required: true }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ path: missing });
      expect((error as Error).message).toMatch(/missing\.cfg \(ENOENT\)/);
      const named = path.join(dir.path, "osad_server.cfg");
      await fs.writeFile(named, "[main]\nlistener_port = 7556\n");
      expect((await loadServerConfig({ path: named })).listenerPort).toBe(7556);
      await fs.writeFile(named, "[main]\nlistener_port = 7556\nlistener_port = 7557\n");
      await expect(loadServerConfig({ path: named })).rejects.toThrow(/osad_server\.cfg line 3/);
    } finally {
      await dir.remove();
    }
  });
});

describe("README", () => {
  it("documents every config key as the schema does", async () => {
    // Cells compared trimmed, so prettier's column padding does not matter.
    const rows = (text: string): string[] =>
      text
        .split("\n")
        .filter((line) => line.startsWith("| `"))
        .map((line) =>
          line
            .split(/(?<!\\)\|/)
            .map((cell) => cell.trim())
            .join("|"),
        );
    const readme = await fs.readFile(new URL("../README.md", import.meta.url), "utf8");
    const documented = rows(readme);
    for (const row of rows(configDocsTable(SERVER_CONFIG))) expect(documented).toContain(row);
  });
});

function caught(work: () => unknown): ConfigError {
  try {
    work();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}
