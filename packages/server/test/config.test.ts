import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_CONFIG_FIELDS, SERVER_CONFIG_SCHEMA, flagName } from "../src/config/schema.js";
import { changedFields } from "../src/config/reload.js";
import {
  defaultServerConfig,
  normalizeServerConfig,
  parseConfigText,
  readConfigFile,
  resolveServerConfig,
} from "../src/config/load.js";
import { ConfigError, ConfigFileError } from "../src/errors.js";

describe("server configuration", () => {
  it("has the seed's keys and defaults plus osad2's", () => {
    const defaults = defaultServerConfig();
    expect(defaults).toMatchObject({
      bind: "*",
      publisherPort: 5555,
      listenerPort: 5556,
      pingInterval: 10,
      actionPollInterval: 5,
      checkinCount: 100,
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
    const keys = SERVER_CONFIG_FIELDS.map((f) => SERVER_CONFIG_SCHEMA[f].key);
    for (const seedKey of [
      "bind",
      "publisher_port",
      "listener_port",
      "ping_interval",
      "action_poll_interval",
      "checkin_count",
      "certificates",
      "log_file",
      "debug",
      "pidfile",
    ]) {
      expect(keys).toContain(seedKey);
    }
    expect(flagName("action_poll_interval")).toBe("--action-poll-interval");
  });

  it("reads a seed-style [main] section and reports unknown keys", () => {
    const { values, unknownKeys } = parseConfigText(
      [
        "[main]",
        "bind = 127.0.0.1",
        "publisher_port = 6555",
        "ping_interval = 0.2",
        "debug = 1",
        "renotify_picked_up = true",
        "jabber_server = old.example.com",
        "[other]",
        "ignored = 1",
      ].join("\n"),
      "/etc/x.cfg",
    );
    expect(unknownKeys).toEqual(["jabber_server"]);
    const config = resolveServerConfig({ file: values });
    expect(config).toMatchObject({
      bind: "127.0.0.1",
      publisherPort: 6555,
      pingInterval: 0.2,
      debug: true,
      renotifyPickedUp: true,
    });
  });

  it("layers file < OSAD2_DATABASE < flags", () => {
    const file = { database: "sqlite:/from/file.db", checkin_count: "10" };
    expect(resolveServerConfig({ file }).database).toBe("sqlite:/from/file.db");
    const env = { OSAD2_DATABASE: "postgres://u@h:5432/env" };
    expect(resolveServerConfig({ file, env }).database).toBe("postgres://u@h:5432/env");
    const flags = { database: "sqlite::memory:", checkin_count: "0" };
    expect(resolveServerConfig({ file, env, flags })).toMatchObject({
      database: "sqlite::memory:",
      checkinCount: 0,
    });
  });

  it.each([
    ["publisher_port", "70000", /publisher_port: "70000" must be a port number 0-65535/],
    ["publisher_port", "55x", /publisher_port: "55x" is not a number/],
    ["ping_interval", "0", /ping_interval: "0" must be a number of seconds/],
    ["ping_interval", "-1", /ping_interval/],
    ["checkin_count", "1.5", /checkin_count: "1.5" must be a whole number between 0/],
    ["missed_pings", "0", /missed_pings: "0" must be a whole number between 1/],
    ["debug", "maybe", /debug: "maybe" must be 0 or 1/],
    ["database", "mysql://x", /database: "mysql:\/\/x" must look like sqlite:/],
    ["bind", "", /bind: "" must be a non-empty string/],
  ])("rejects %s = %j naming the key", (key, raw, message) => {
    let caught: unknown;
    try {
      resolveServerConfig({ file: { [key]: raw } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).key).toBe(key);
    expect((caught as Error).message).toMatch(message);
  });

  it("checks combinations and library values", () => {
    expect(() => normalizeServerConfig({ tlsCert: "/c.pem" })).toThrow(
      /tls_key: tls_cert and tls_key must be set together/,
    );
    expect(() => normalizeServerConfig({ publisherPort: 6000, listenerPort: 6000 })).toThrow(
      /listener_port: must differ/,
    );
    expect(() => normalizeServerConfig({ pingInterval: Number.NaN })).toThrow(/ping_interval/);
    expect(() => normalizeServerConfig({ nonsense: 1 } as never)).toThrow(
      /unknown server option "nonsense"/,
    );
    expect(() => resolveServerConfig({ flags: { nonsense: "1" } })).toThrow(
      /nonsense: is not an osad2-server setting/,
    );
    const config = normalizeServerConfig({ publisherPort: 0, listenerPort: 0, checkinCount: 0 });
    expect(config.checkinCount).toBe(0);
    expect(
      changedFields(defaultServerConfig(), { ...defaultServerConfig(), missedPings: 5 }),
    ).toEqual(["missedPings"]);
  });

  it("reads files: the default path may be missing, a named one may not", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "osad2-cfg-"));
    try {
      const missing = path.join(dir, "missing.cfg");
      await expect(readConfigFile(missing, false)).resolves.toEqual({
        values: {},
        unknownKeys: [],
      });
      await expect(readConfigFile(missing, true)).rejects.toThrow(ConfigFileError);
      await expect(readConfigFile(missing, true)).rejects.toThrow(/missing\.cfg: does not exist/);
      const file = path.join(dir, "osad_server.cfg");
      await fs.writeFile(file, "[main]\nlistener_port = 7556\n");
      expect((await readConfigFile(file, true)).values).toEqual({ listener_port: "7556" });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
