import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { caught } from "@osad2/test-helpers";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import {
  ConfigError,
  addConfigOptions,
  changedFields,
  configDocsTable,
  configFlagValues,
  defaultConfig,
  defineConfig,
  flagName,
  loadConfig,
  normalizeConfig,
  parseIni,
  resolveConfig,
  valueTypes,
} from "../src/index.js";

const PATH = "/etc/test/test.cfg";

const DEFINITION = defineConfig({
  program: "osad2-test",
  section: "osad",
  sectionRequired: true,
  ignoredKeys: ["proto"],
  missingFileHint: "install the package",
  keys: {
    systemid: {
      type: valueTypes.path,
      default: "/etc/sysconfig/rhn/systemid",
      doc: "the systemid",
      seed: true,
    },
    rhn_check_command: {
      type: valueTypes.command,
      default: "/usr/sbin/rhn_check",
      doc: "the command",
      seed: true,
    },
    registry_interval: {
      type: valueTypes.positiveSeconds,
      default: "20",
      doc: "retry pause",
      seed: true,
    },
    jitter: { type: valueTypes.seconds, default: "0", doc: "random delay", seed: false },
    debug_level: { type: valueTypes.count, default: "0", doc: "debug", seed: true },
    publisher_port: { type: valueTypes.port, default: "5555", doc: "PUB port", seed: false },
    metrics_port: { type: valueTypes.portOrZero, default: "0", doc: "metrics | port", seed: false },
    run_at_start: { type: valueTypes.flag, default: "1", doc: "run at start", seed: false },
    ca_cert: {
      type: valueTypes.optionalPath,
      default: "",
      doc: "CA file",
      seed: false,
      aliases: ["osa_ssl_cert"],
    },
    server_url: { type: valueTypes.optionalUrl, default: "", doc: "URL", seed: false },
    database: {
      type: valueTypes.matching("database", /^sqlite:.+$/, "a sqlite: URL"),
      default: "sqlite::memory:",
      doc: "database",
      seed: false,
      env: "OSAD2_TEST_DATABASE",
    },
    ping_interval: {
      type: valueTypes.secondsBetween(0.01, 86_400),
      default: "10",
      doc: "ping",
      seed: true,
    },
  },
});

function resolve(text: string, extra: Parameters<typeof resolveConfig>[1] = {}) {
  return resolveConfig(DEFINITION, { document: parseIni(text, PATH), ...extra });
}

async function failure(run: () => unknown): Promise<ConfigError> {
  const error = await caught(run);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("resolveConfig", () => {
  it("gives every default, typed, in camelCase", () => {
    expect(defaultConfig(DEFINITION)).toEqual({
      systemid: "/etc/sysconfig/rhn/systemid",
      rhnCheckCommand: ["/usr/sbin/rhn_check"],
      registryInterval: 20,
      jitter: 0,
      debugLevel: 0,
      publisherPort: 5555,
      metricsPort: 0,
      runAtStart: true,
      caCert: "",
      serverUrl: "",
      database: "sqlite::memory:",
      pingInterval: 10,
    });
  });

  it("layers defaults < file (section, then [DEFAULT], then aliases) < environment < flags", () => {
    const config = resolve(
      "[DEFAULT]\njitter = 3\n[osad]\nregistry_interval = .5\nrhn_check_command = '/opt/my check' -v\nosa_ssl_cert = /ca.pem\nproto = https\ndatabase = sqlite:/file\nrun_at_start = off\n",
      {
        env: { OSAD2_TEST_DATABASE: "sqlite:/env" },
        flags: { publisher_port: "6000", run_at_start: "yes" },
      },
    );
    expect(config).toMatchObject({
      registryInterval: 0.5,
      rhnCheckCommand: ["/opt/my check", "-v"],
      jitter: 3,
      caCert: "/ca.pem",
      database: "sqlite:/env",
      publisherPort: 6000,
      runAtStart: true,
    });
  });

  it.each([
    [
      "registry_interval = soon",
      /line 2: registry_interval = "soon" is not a number of seconds > 0: write e\.g\. registry_interval = 20$/,
    ],
    ["registry_interval = 0", /"0" is not a number of seconds > 0/],
    ["jitter = 1e3", /jitter = "1e3" is not a number of seconds ≥ 0/],
    ["debug_level = 1.5", /is not a whole number ≥ 0/],
    ["publisher_port = 0", /publisher_port = "0" is not a TCP port \(1-65535\)/],
    ["metrics_port = 65536", /is not a TCP port \(1-65535\) or 0/],
    ["run_at_start = maybe", /run_at_start = "maybe" is not 0 or 1/],
    [
      "server_url = ftp://x",
      /is not an http:\/\/ or https:\/\/ URL: write e\.g\. server_url = https:\/\/spacewalk\.example\.com\/XMLRPC/,
    ],
    ["rhn_check_command = 'x", /is not a command line \(quotes must be balanced\)/],
    ["systemid =", /systemid = "" is not a path/],
    ["database = mysql://x", /database = "mysql:\/\/x" is not a sqlite: URL/],
    ["ping_interval = 0", /is not a number of seconds from 0.01 to 86400/],
  ])("refuses %s naming file, line and key", async (line, message) => {
    const error = await failure(() => resolve(`[osad]\n${line}\n`));
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${PATH} line 2: `)).toBe(true);
    expect(error).toMatchObject({ path: PATH, line: 2, key: line.split(" ")[0] });
  });

  it("refuses unknown keys with the known ones, but accepts ignored and [DEFAULT]-only keys", async () => {
    const error = await failure(() => resolve("[osad]\nregistery_interval = 5\n"));
    expect(error.message).toBe(
      `${PATH} line 2: unknown key "registery_interval" in [osad]: fix its spelling or remove it (known keys: systemid, rhn_check_command, registry_interval, jitter, debug_level, publisher_port, metrics_port, run_at_start, ca_cert, server_url, database, ping_interval)`,
    );
    expect(error.key).toBe("registery_interval");
    // [DEFAULT]: settings, ignored keys and what a value refers to; nothing else.
    expect(() =>
      resolve("[DEFAULT]\nhost = h\nproto = https\n[osad]\nserver_url = https://%(host)s/\n"),
    ).not.toThrow();
    const unused = await failure(() => resolve("[DEFAULT]\njiter = 5\n[osad]\n"));
    expect(unused).toMatchObject({ path: PATH, line: 2, key: "jiter" });
    expect(unused.message).toMatch(
      /line 2: unknown key "jiter" in \[DEFAULT\], and no value refers to it .*\(known keys: systemid, rhn_check_command, registry_interval, jitter,/,
    );
  });

  it("refuses a missing required section and sections the program does not read", async () => {
    expect((await failure(() => resolve("[DEFAULT]\njitter = 1\n"))).message).toBe(
      `${PATH}: has no [osad] section: add "[osad]" above its keys`,
    );
    expect((await failure(() => resolve("[osad]\n[extra]\na = 1\n"))).message).toMatch(
      /line 2: unknown section \[extra\] \(holding a\): osad2-test reads only \[osad\] and \[DEFAULT\]; rename or remove it$/,
    );
    // A misspelt header above the program's own keys: the fix names the right one.
    expect((await failure(() => resolve("[osda]\njitter = 1\n"))).message).toBe(
      `${PATH} line 1: unknown section [osda] (holding jitter): osad2-test reads only [osad] and [DEFAULT]; rename it [osad]`,
    );
    const optional = { ...DEFINITION, sectionRequired: false };
    expect(resolveConfig(optional, { document: parseIni("", PATH) }).jitter).toBe(0);
  });

  it("names the flag or the variable when that value is bad, and refuses unknown flags", async () => {
    expect((await failure(() => resolve("[osad]\n", { flags: { jitter: "-1" } }))).message).toBe(
      '--jitter "-1" is not a number of seconds ≥ 0: write e.g. jitter = 0',
    );
    expect(
      (await failure(() => resolve("[osad]\n", { env: { OSAD2_TEST_DATABASE: "pg" } }))).message,
    ).toMatch(/^OSAD2_TEST_DATABASE="pg" is not a sqlite: URL/);
    expect(
      (await failure(() => resolve("[osad]\n", { flags: { nonsense: "1" } }))).message,
    ).toMatch(/^--nonsense is not an osad2-test setting \(known keys: systemid,/);
  });
});

describe("normalizeConfig and changedFields", () => {
  it("checks library values by type and names the INI key", async () => {
    expect(normalizeConfig(DEFINITION, { jitter: 2 }).jitter).toBe(2);
    expect(
      (await failure(() => normalizeConfig(DEFINITION, { publisherPort: 70_000 }))).message,
    ).toBe("option publisherPort = 70000 is not a TCP port (1-65535) (INI key publisher_port)");
    expect(
      (await failure(() => normalizeConfig(DEFINITION, { pingInterval: Number.NaN }))).key,
    ).toBe("ping_interval");
    expect(() => normalizeConfig(DEFINITION, { nope: 1 } as never)).toThrow(
      /unknown osad2-test option "nope"/,
    );
  });

  it("lists the fields that differ, arrays by content", () => {
    const before = defaultConfig(DEFINITION);
    expect(changedFields(DEFINITION, before, defaultConfig(DEFINITION))).toEqual([]);
    expect(
      changedFields(DEFINITION, before, { ...before, jitter: 1, rhnCheckCommand: ["/x"] }),
    ).toEqual(["rhnCheckCommand", "jitter"]);
  });
});

describe("flags and docs", () => {
  it("adds --kebab-case options and reads them back by INI key; bare 0/1 flags mean 1", () => {
    expect(flagName("rhn_check_command")).toBe("--rhn-check-command");
    const command = addConfigOptions(new Command("x").exitOverride(), DEFINITION);
    command.parse(["--rhn-check-command", "/bin/true", "--run-at-start", "--debug-level", "2"], {
      from: "user",
    });
    expect(configFlagValues(DEFINITION, command.opts())).toEqual({
      rhn_check_command: "/bin/true",
      run_at_start: "1",
      debug_level: "2",
    });
  });

  it("renders a README table with every key", () => {
    const table = configDocsTable(DEFINITION);
    expect(table.split("\n")).toHaveLength(2 + Object.keys(DEFINITION.keys).length);
    expect(table).toContain(
      "| `ca_cert` (also `osa_ssl_cert`) | path | (empty) | osad2 | CA file. |",
    );
    expect(table).toContain("metrics \\| port");
    expect(table).toContain("Environment: `OSAD2_TEST_DATABASE`.");
  });
});

describe("loadConfig", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("reads file, flags and defaults in one go; a missing file is an error unless not required", async () => {
    const dir = await mkdtemp(join(tmpdir(), "osad2-kit-"));
    dirs.push(dir);
    const path = join(dir, "x.cfg");
    await writeFile(path, "[osad]\njitter = 4\n");
    const loaded = await loadConfig(DEFINITION, { path, flags: { debug_level: "1" } });
    expect(loaded.values).toMatchObject({ jitter: 4, debugLevel: 1 });
    expect(loaded.document?.path).toBe(path);

    const missing = join(dir, "missing.cfg");
    await expect(loadConfig(DEFINITION, { path: missing })).rejects.toThrow(
      `cannot read config file ${missing} (ENOENT): install the package`,
    );
    const optional = await loadConfig(DEFINITION, { path: missing, required: false });
    expect(optional.document).toBeUndefined();
    expect(optional.values.jitter).toBe(0);
  });
});
