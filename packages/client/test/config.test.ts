import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { caught } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import {
  CONFIG_SCHEMA,
  ConfigError,
  DEFAULT_CONFIG_PATH,
  loadConfig,
  loadStateFilePath,
  parseUp2date,
  type ConfigOverrides,
} from "../src/index.js";
import { cleanupTempDirs, tempDir } from "./helpers.js";

afterEach(cleanupTempDirs);

const UP2DATE = `# Automatically generated Red Hat Update Agent config file, do not edit.
# Format: 1.0
serverURL[comment]=Remote server URL (use FQDN)
serverURL=https://spacewalk.example.com/XMLRPC
sslCACert[comment]=The CA cert used to verify the ssl server
sslCACert=CA_PATH
systemIdPath[comment]=Location of system id
systemIdPath=/etc/sysconfig/rhn/systemid
`;

async function setup(
  osad: string,
  options: { up2date?: string; overrides?: ConfigOverrides } = {},
): Promise<{ dir: string; path: string; load: () => ReturnType<typeof loadConfig> }> {
  const dir = await tempDir();
  const path = join(dir, "osad_client.cfg");
  await writeFile(join(dir, "ca.crt"), "not checked here\n");
  if (options.up2date !== undefined) {
    await writeFile(join(dir, "up2date"), options.up2date.replace("CA_PATH", join(dir, "ca.crt")));
  }
  await writeFile(path, osad.replaceAll("DIR", dir));
  return {
    dir,
    path,
    load: () =>
      loadConfig({
        configPath: path,
        overrides: { up2date: join(dir, "up2date"), ...options.overrides },
      }),
  };
}

async function failure(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await caught(() => promise);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("loadConfig", () => {
  it("applies every default and derives server_url, ca_cert and server_host from up2date", async () => {
    const { dir, path, load } = await setup("[osad]\n", { up2date: UP2DATE });
    const config = await load();
    expect(config).toEqual({
      configPath: path,
      systemid: "/etc/sysconfig/rhn/systemid",
      rhnCheckCommand: ["/usr/sbin/rhn_check"],
      certificates: "/etc/rhn/osad2-client/certs",
      serverPublicKey: "/etc/rhn/osad2-client/certs/server.key",
      clientSecretKey: "/etc/rhn/osad2-client/certs/client.key_secret",
      registryInterval: 20,
      debugLevel: 0,
      logfile: "",
      pidfile: "",
      up2date: join(dir, "up2date"),
      serverUrl: "https://spacewalk.example.com/XMLRPC",
      caCert: join(dir, "ca.crt"),
      serverHost: [],
      publisherPort: 5555,
      listenerPort: 5556,
      jitter: 0,
      rhnCheckTimeout: 1800,
      runAtStart: true,
      stateFile: "/var/lib/osad2-client/state.json",
    });
    expect(DEFAULT_CONFIG_PATH).toBe("/etc/rhn/osad2-client/osad_client.cfg");
  });

  it("reads every key from the file, typed, and lets CLI values win", async () => {
    const { dir, load } = await setup(
      `# a comment
[osad]
systemid = DIR/systemid
rhn_check_command = "/opt/my check" --flag   ; inline comment as ConfigParser allows
certificates: DIR/certs
server_public_key = /abs/server.key
client_secret_key = mine.key_secret
registry_interval = 0.5
debug_level = 2
logfile = DIR/osad.log
pidfile = DIR/osad.pid
server_url = http://127.0.0.1:5557/RPC2
ca_cert =
server_host = push.example.com, push2.example.com:7100
publisher_port = 6555
listener_port = 6556
jitter = 2.5
rhn_check_timeout = 60
run_at_start = 0
state_file = DIR/state.json
`,
      { overrides: { jitter: "0", run_at_start: "yes", listener_port: "7000" } },
    );
    const config = await load();
    expect(config).toMatchObject({
      systemid: `${dir}/systemid`,
      rhnCheckCommand: ["/opt/my check", "--flag"],
      certificates: `${dir}/certs`,
      serverPublicKey: "/abs/server.key",
      clientSecretKey: `${dir}/certs/mine.key_secret`,
      registryInterval: 0.5,
      debugLevel: 2,
      logfile: `${dir}/osad.log`,
      pidfile: `${dir}/osad.pid`,
      serverUrl: "http://127.0.0.1:5557/RPC2",
      caCert: "",
      serverHost: [
        { host: "push.example.com", port: undefined },
        { host: "push2.example.com", port: 7100 },
      ],
      publisherPort: 6555,
      listenerPort: 7000,
      jitter: 0,
      rhnCheckTimeout: 60,
      runAtStart: true,
      stateFile: `${dir}/state.json`,
    });
  });

  it("accepts a seed-style file: seed keys, legacy keys ignored, osa_ssl_cert as ca_cert", async () => {
    const { dir, load } = await setup(
      `[osad]
systemid = /etc/sysconfig/rhn/systemid
debug_level = 0
server_handler = /XMLRPC
proto = https
osa_ssl_cert = DIR/ca.crt
logfile = /var/log/osad
max_time_drift = 120
run_rhn_check = 1
rhn_check_command = /usr/sbin/rhn_check
enable_failover = 0
certificates = /etc/rhn/osad-client
server_public_key = server.key
client_secret_key = client.key_secret
pidfile = /var/run/osad-client.pid
`,
      { up2date: UP2DATE.replace(/^sslCACert=.*$/m, "") },
    );
    const config = await load();
    expect(config.caCert).toBe(`${dir}/ca.crt`);
    expect(config.serverPublicKey).toBe("/etc/rhn/osad-client/server.key");
    expect(config.logfile).toBe("/var/log/osad");
  });

  it("reads the seed's server_url = %(proto)s://%(server_name)s%(server_handler)s, the parts it leaves unset from up2date's serverURL", async () => {
    // The file sets proto and server_handler (as the seed's does); server_name comes from up2date.
    const seed = await setup(
      "[osad]\nproto = http\nserver_handler = /XMLRPC\nserver_url = %(proto)s://%(server_name)s%(server_handler)s\n",
      {
        up2date: UP2DATE.replace(
          "https://spacewalk.example.com/XMLRPC",
          "https://sw.example.com:8443/XMLRPC",
        ),
      },
    );
    const config = await seed.load();
    expect(config.serverUrl).toBe("http://sw.example.com:8443/XMLRPC");
    expect(config.serverHost).toEqual([]);
    // Nothing set in the file: every part from up2date.
    const bare = await setup(
      "[osad]\nserver_url = %(proto)s://%(server_name)s%(server_handler)s\n",
      { up2date: UP2DATE },
    );
    expect((await bare.load()).serverUrl).toBe("https://spacewalk.example.com/XMLRPC");
    // A [DEFAULT] of the file's own wins too, and errors keep the file's line numbers.
    const own = await setup(
      "[DEFAULT]\nserver_name = osad2.example.com:5557\n[osad]\nregistry_interval = soon\nserver_url = %(proto)s://%(server_name)s%(server_handler)s\n",
      { up2date: UP2DATE },
    );
    expect((await failure(own.load())).message).toMatch(
      /osad_client\.cfg line 4: registry_interval = "soon"/,
    );
    const fixed = await setup(
      "[DEFAULT]\nserver_name = osad2.example.com:5557\n[osad]\nserver_url = %(proto)s://%(server_name)s%(server_handler)s\n",
      { up2date: UP2DATE },
    );
    expect((await fixed.load()).serverUrl).toBe("https://osad2.example.com:5557/XMLRPC");
  });

  it("says what to do when the seed's server_url needs up2date's serverURL and there is none", async () => {
    const { path, load } = await setup(
      "[osad]\nserver_url = %(proto)s://%(server_name)s%(server_handler)s\n",
    );
    const error = await failure(load());
    expect(error).toMatchObject({ key: "server_url" });
    expect(error.message).toContain(
      `${path} builds server_url from %(proto)s, %(server_name)s, %(server_handler)s, which osad2 takes from up2date's serverURL, but`,
    );
    expect(error.message).toMatch(
      /up2date was not found: register this system \(rhnreg_ks\) or set server_url in /,
    );
  });

  it("loadStateFilePath (status) needs no up2date, even for the seed's server_url, and is as strict", async () => {
    const { dir, path } = await setup(
      "[osad]\nstate_file = DIR/state.json\nserver_url = %(proto)s://%(server_name)s%(server_handler)s\n",
    );
    const overrides = { up2date: join(dir, "up2date") }; // does not exist
    expect(await loadStateFilePath({ configPath: path, overrides })).toBe(join(dir, "state.json"));
    await writeFile(path, "[osad]\nstate_file = x\nregistry_interval = soon\n");
    const error = await failure(loadStateFilePath({ configPath: path, overrides }));
    expect(error).toMatchObject({ path, line: 3, key: "registry_interval" });
  });

  it.each([
    [
      "an unknown key",
      "[osad]\nregistery_interval = 5\n",
      /line 2: unknown key "registery_interval" in \[osad\]: fix its spelling or remove it \(known keys: systemid, /,
    ],
    [
      "a bad number",
      "[osad]\nregistry_interval = soon\n",
      /osad_client\.cfg line 2: registry_interval = "soon" is not a number of seconds > 0: write e\.g\. registry_interval = 20/,
    ],
    ["a zero interval", "[osad]\nregistry_interval = 0\n", /registry_interval = "0".*> 0/],
    ["a bad port", "[osad]\npublisher_port = 70000\n", /publisher_port = "70000".*TCP port/],
    ["a bad flag", "[osad]\nrun_at_start = maybe\n", /run_at_start = "maybe".*0 or 1/],
    [
      "a bad URL",
      "[osad]\nserver_url = ftp://x\n",
      /server_url = "ftp:\/\/x".*http:\/\/ or https:\/\//,
    ],
    [
      "an unbalanced quote",
      "[osad]\nrhn_check_command = /usr/sbin/rhn_check 'x\n",
      /rhn_check_command.*quotes must be balanced/,
    ],
    ["an empty path", "[osad]\ncertificates =\n", /certificates = "".*a path/],
    ["a line without =", "[osad]\njust words\n", /line 2: expected "key = value"/],
    [
      "a key before [osad]",
      "systemid = /x\n[osad]\n",
      /line 1: key "systemid" before any section header: put \[osad\] on a line above it/,
    ],
    ["a duplicate key", "[osad]\njitter = 1\njitter = 2\n", /line 3: duplicate key "jitter"/],
    ["a broken section header", "[osad\njitter = 1\n", /line 1: malformed section header "\[osad"/],
    ["another section", "[osad]\n[main]\njitter = 1\n", /line 2: unknown section \[main\]/],
    [
      "a lone %",
      "[osad]\nrhn_check_command = date +%s\n",
      /line 2: "rhn_check_command" has a lone "%"/,
    ],
    ["no [osad] section", "[DEFAULT]\njitter = 1\n", /has no \[osad\] section: add "\[osad\]"/],
    [
      "a misspelt [osad] header",
      "[osda]\njitter = 1\n",
      /line 1: unknown section \[osda\] \(holding jitter\): .*; rename it \[osad\]/,
    ],
    [
      // (The seed's own %(proto)s://%(server_name)s%(server_handler)s resolves: see above.)
      "an unresolved interpolation",
      "[osad]\nproto = https\nserver_handler = /XMLRPC\nserver_url = %(proto)s://%(spacewalk_host)s%(server_handler)s\n",
      /"server_url" uses %\(spacewalk_host\)s but no "spacewalk_host" is set/,
    ],
  ])("refuses %s, naming the file and the fix", async (_what, text, message) => {
    const { path, load } = await setup(text, { up2date: UP2DATE });
    const error = await failure(load());
    expect(error.message).toMatch(message);
    expect(error.message).toContain(path);
    expect(error.message.split("\n")).toHaveLength(1);
  });

  it("names the flag when a CLI value is bad", async () => {
    const { load } = await setup("[osad]\n", { up2date: UP2DATE, overrides: { jitter: "-1" } });
    const error = await failure(load());
    expect(error.message).toBe(
      '--jitter "-1" is not a number of seconds ≥ 0: write e.g. jitter = 0',
    );
    expect(error.key).toBe("jitter");
  });

  it("says how to fix a missing config file, a missing up2date and a missing CA", async () => {
    const dir = await tempDir();
    const missing = join(dir, "nope.cfg");
    const e1 = await failure(loadConfig({ configPath: missing }));
    expect(e1.message).toBe(
      `cannot read config file ${missing} (ENOENT): create it (the osad2 client package installs one) or pass --config FILE`,
    );
    expect(e1.path).toBe(missing);

    const { load, path } = await setup("[osad]\n");
    const e2 = await failure(load());
    expect(e2.message).toMatch(
      /no registration URL: .*up2date not found — register this system with rhnreg_ks or set server_url in /,
    );
    expect(e2.message).toContain(path);

    const third = await setup(
      "[osad]\nca_cert = DIR/missing-ca.crt\nserver_url = https://h/XMLRPC\n",
    );
    const e3 = await failure(third.load());
    expect(e3.message).toMatch(
      /CA certificate .*missing-ca\.crt for https:\/\/h\/XMLRPC not found: install the server's CA/,
    );
  });

  it("has a doc line and a valid default for every key", async () => {
    for (const [key, spec] of Object.entries(CONFIG_SCHEMA)) {
      expect(spec.doc.length, key).toBeGreaterThan(10);
    }
    const { load } = await setup("[osad]\nserver_url = http://127.0.0.1/XMLRPC\n");
    await expect(load()).resolves.toBeDefined();
  });
});

describe("parseUp2date", () => {
  it("takes the first serverURL and every sslCACert, skipping [comment] lines", () => {
    expect(
      parseUp2date(
        "serverURL[comment]=x=y\nserverURL=https://a/XMLRPC;https://b/XMLRPC\nsslCACert=/one;/two\nnoise\n",
      ),
    ).toEqual({ serverUrl: "https://a/XMLRPC", sslCaCerts: ["/one", "/two"] });
    expect(parseUp2date("# nothing\n")).toEqual({ serverUrl: undefined, sslCaCerts: [] });
  });
});

describe("the shipped config template (config/osad_client.cfg)", () => {
  const template = fileURLToPath(new URL("../config/osad_client.cfg", import.meta.url));

  it("names every key once, commented out at its default, and loads as the defaults", async () => {
    const text = await readFile(template, "utf8");
    for (const [key, spec] of Object.entries(CONFIG_SCHEMA)) {
      const lines = text.split("\n").filter((line) => line.startsWith(`;${key} =`));
      expect(lines, key).toEqual([`;${key} = ${String(spec.default)}`.trimEnd()]);
    }
    const fromTemplate = await (await setup(text, { up2date: UP2DATE })).load();
    const fromNothing = await (await setup("[osad]\n", { up2date: UP2DATE })).load();
    expect({ ...fromTemplate, configPath: "", up2date: "", caCert: "" }).toEqual({
      ...fromNothing,
      configPath: "",
      up2date: "",
      caCert: "",
    });
  });
});
