// createproxy: the proxy keys RPM judged by the real rpm, rpmlint and @osad2/keys; createclient --proxy.
import { KeyStore, readCertificate, readKeyPair, readPublicKey } from "@osad2/keys";
import { DEFAULT_PROXY_PORT as PROTOCOL_PROXY_PORT } from "@osad2/protocol";
import { parseHostList, parseIni as parseStrictIni } from "@osad2/service-kit";
import { parse as parseIni } from "ini";
import { appendFile, readFile, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_PATHS,
  DEFAULT_PROXY_PORT,
  PACKAGER_VERSION,
  PROXY_PATHS,
  createClientPackage,
  createProxyPackage,
  createServerKeys,
  type ProxyPackage,
} from "../src/index.js";
import {
  PACKAGER_CLI,
  PACKAGER_README,
  TempDirs,
  listTree,
  rpmInstall,
  run,
  type RunResult,
} from "./helpers.js";

const temps = new TempDirs();
let dir: string;
let certificates: string;
let out: string;
let serverPublicKey: string;
let dmzRpm: string;
let dmz: { publicKey: string };
let branch7: ProxyPackage;

/** The CLI under umask 000: every mode it leaves must be the one it sets. */
function packager(args: readonly string[]): Promise<RunResult> {
  return run("/bin/sh", [
    "-c",
    'umask 000; exec "$@"',
    "sh",
    process.execPath,
    PACKAGER_CLI,
    ...args,
  ]);
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

/** `rpm -qlvp` as path → "mode user group". */
async function listing(rpmPath: string): Promise<Map<string, string>> {
  const result = await run("rpm", ["-qlvp", rpmPath]);
  expect(result.code, result.stderr).toBe(0);
  const entries = new Map<string, string>();
  for (const line of result.stdout.trim().split("\n")) {
    const fields = line.trim().split(/\s+/);
    entries.set(fields.at(-1) ?? "", `${fields[0]} ${fields[2]} ${fields[3]}`);
  }
  return entries;
}

beforeAll(async () => {
  dir = await temps.make();
  certificates = join(dir, "certs");
  out = join(dir, "rpms");
  serverPublicKey = (await createServerKeys({ certificates, config: false })).publicKey;
  // Through the CLI, as an administrator runs it on the server, failover servers upstream.
  const built = await packager([
    "createproxy",
    "dmz",
    "--host",
    "dmz.example.com",
    "--upstream",
    "sw1.example.com, sw2.example.com:6000",
    "--certificates",
    certificates,
    "--out",
    out,
  ]);
  if (built.code !== 0) throw new Error(`createproxy failed: ${built.stderr}`);
  dmzRpm = /^built (\S+)$/m.exec(built.stdout)?.[1] ?? "";
  dmz = { publicKey: /^proxy dmz: public key (\S+) added/m.exec(built.stdout)?.[1] ?? "" };
  branch7 = await createProxyPackage({
    name: "branch7",
    parent: "dmz",
    host: "b7.example.com",
    certificates,
    out,
    release: 2,
  });
}, 120_000);

afterAll(() => temps.removeAll());

describe("createproxy: the RPM", () => {
  it("is osad2-proxy-keys-NAME-VERSION-RELEASE.noarch.rpm, 0600 (it carries the proxy's secret key)", async () => {
    expect(basename(dmzRpm)).toBe(`osad2-proxy-keys-dmz-${PACKAGER_VERSION}-1.noarch.rpm`);
    expect(branch7.rpmPath).toBe(
      join(out, `osad2-proxy-keys-branch7-${PACKAGER_VERSION}-2.noarch.rpm`),
    );
    expect((await readdir(out)).sort()).toEqual(
      [basename(dmzRpm), basename(branch7.rpmPath ?? "")].sort(),
    );
    expect(await mode(dmzRpm)).toBe(0o600);
    const info = await run("rpm", ["-qp", "--qf", "%{NAME}|%{ARCH}|%{LICENSE}|%{SUMMARY}", dmzRpm]);
    expect(info.stdout).toBe(
      "osad2-proxy-keys-dmz|noarch|GPL-2.0-only|CURVE keys and osad2-proxy configuration for proxy dmz",
    );
    expect((await run("rpm", ["-K", dmzRpm])).stdout).toContain("digests OK");
  });

  it("rpm -qlvp: proxy.key_secret -rw------- in a drwx------ private_keys/, the rest 0644, nothing else", async () => {
    const entries = await listing(dmzRpm);
    const p = PROXY_PATHS;
    expect(entries.get(p.secretKey)).toBe("-rw------- root root");
    expect(entries.get(p.privateKeysDir)).toBe("drwx------ root root");
    expect(entries.get(p.publicKeysDir)).toBe("drwxr-xr-x root root");
    expect(entries.get(p.certsDir)).toBe("drwxr-xr-x root root");
    expect(entries.get(p.configDir)).toBe("drwxr-xr-x root root");
    for (const file of [
      p.publicKey,
      p.upstreamKey,
      p.config,
      p.unit,
      p.firewalldSystems,
      p.firewalldProxies,
    ])
      expect(entries.get(file), file).toBe("-rw-r--r-- root root");
    expect([...entries.keys()].sort()).toEqual(
      [
        p.configDir,
        p.config,
        p.certsDir,
        p.privateKeysDir,
        p.secretKey,
        p.publicKeysDir,
        p.publicKey,
        p.upstreamKey,
        p.unit,
        p.firewalldSystems,
        p.firewalldProxies,
        "/usr/share/doc/osad2-proxy-keys-dmz",
        "/usr/share/doc/osad2-proxy-keys-dmz/README.md",
        "/usr/share/licenses/osad2-proxy-keys-dmz",
        "/usr/share/licenses/osad2-proxy-keys-dmz/LICENSE",
      ].sort(),
    );
    const flags = await run("rpm", [
      "-qp",
      "--qf",
      "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]",
      dmzRpm,
    ]);
    // The config survives an upgrade that re-issues the keys; the keys do not (they are the payload).
    expect(flags.stdout).toContain(`${p.config} cn\n`);
    expect(flags.stdout).toContain(`${p.secretKey} \n`);
  });

  it("installs into a --root: keys that match the server's proxies/ entry, upstream.key = the server's key", async () => {
    const root = join(dir, "root-dmz");
    const install = await rpmInstall(root, dmzRpm);
    expect(install.code, install.stderr).toBe(0);
    const p = PROXY_PATHS;
    expect(await mode(join(root, p.secretKey))).toBe(0o600);
    expect(await mode(join(root, p.privateKeysDir))).toBe(0o700);
    const pair = await readKeyPair(join(root, p.secretKey));
    expect(pair.publicKey).toBe(dmz.publicKey);
    expect(await readPublicKey(join(root, p.publicKey))).toBe(dmz.publicKey);
    expect(await readPublicKey(join(root, p.upstreamKey))).toBe(serverPublicKey);
    expect(await readFile(join(root, p.upstreamKey), "utf8")).not.toContain("secret-key");

    const proxies = await KeyStore.open(certificates, {
      allowList: "proxies",
      pollIntervalMs: 0,
      fsWatch: false,
    });
    const clients = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(proxies.get("dmz")?.publicKey).toBe(dmz.publicKey);
      expect(proxies.has(dmz.publicKey)).toBe(true);
      // A proxy key is never a client key: the server's client port must refuse it.
      expect(clients.has(dmz.publicKey)).toBe(false);
    } finally {
      await proxies.close();
      await clients.close();
    }
    const recorded = await readCertificate(join(certificates, "proxies", "dmz.key"));
    expect(recorded.metadata).toMatchObject({
      name: "dmz",
      kind: "proxy",
      host: "dmz.example.com",
    });
    expect(await mode(join(certificates, "proxies", "dmz.key"))).toBe(0o644);
  });

  it("has an osad2-proxy.conf [osad2-proxy] with upstream (port 5558 filled in), certificates and both ports", async () => {
    const root = join(dir, "root-dmz");
    const text = await readFile(join(root, PROXY_PATHS.config), "utf8");
    const ini = parseIni(text) as Record<string, Record<string, string>>;
    expect(Object.keys(ini)).toEqual(["osad2-proxy"]);
    expect(ini["osad2-proxy"]).toEqual({
      name: "dmz",
      upstream: "sw1.example.com:5558, sw2.example.com:6000",
      certificates: PROXY_PATHS.certsDir,
      listener_port: "5556",
      proxy_port: "5558",
    });
    expect(text).toMatch(/^;bind = \*$/m);
    // What osad2-proxy reads it with: service-kit's strict INI reader and host-list type.
    const strict = parseStrictIni(text, PROXY_PATHS.config).sections.get("osad2-proxy");
    expect(parseHostList(strict?.get("upstream")?.value ?? "")).toEqual([
      { host: "sw1.example.com", port: 5558 },
      { host: "sw2.example.com", port: 6000 },
    ]);
    expect(DEFAULT_PROXY_PORT).toBe(PROTOCOL_PROXY_PORT);
  });

  it("ships osad2-proxy.service (not enabled by the package) and firewalld services for 5556 and 5558", async () => {
    const root = join(dir, "root-dmz");
    const unit = await readFile(join(root, PROXY_PATHS.unit), "utf8");
    expect(unit).toContain(`ExecStart=/usr/bin/env osad2-proxy run --config ${PROXY_PATHS.config}`);
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=$/m);
    const verify = await run("systemd-analyze", [
      "verify",
      "--man=no",
      join(root, PROXY_PATHS.unit),
    ]);
    // Only the proxy program itself may be missing (it comes from npm); nothing about the unit's syntax.
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/Unknown|Invalid|Failed to parse|bad-setting/i);
    const systems = await readFile(join(root, PROXY_PATHS.firewalldSystems), "utf8");
    expect([...systems.matchAll(/<port protocol="tcp" port="(\d+)"\/>/g)].map((m) => m[1])).toEqual(
      ["5556"],
    );
    expect(systems).toContain("<short>osad2-proxy</short>");
    const proxies = await readFile(join(root, PROXY_PATHS.firewalldProxies), "utf8");
    expect([...proxies.matchAll(/<port protocol="tcp" port="(\d+)"\/>/g)].map((m) => m[1])).toEqual(
      ["5558"],
    );
    const scripts = await run("rpm", ["-qp", "--scripts", dmzRpm]);
    expect(scripts.stdout).toContain("preset");
    expect(scripts.stdout).toContain("try-restart");
    expect(scripts.stdout).not.toMatch(/systemctl start/);
  });

  it("behind a parent (--parent): trusts the parent's key and connects to the parent's recorded host, port 5558", async () => {
    const root = join(dir, "root-branch7");
    const install = await rpmInstall(root, branch7.rpmPath ?? "");
    expect(install.code, install.stderr).toBe(0);
    expect(branch7).toMatchObject({ upstream: ["dmz.example.com:5558"], upstreamIs: "proxy dmz" });
    expect(await readPublicKey(join(root, PROXY_PATHS.upstreamKey))).toBe(dmz.publicKey);
    expect((await readKeyPair(join(root, PROXY_PATHS.secretKey))).publicKey).toBe(
      branch7.publicKey,
    );
    const ini = parseIni(await readFile(join(root, PROXY_PATHS.config), "utf8")) as Record<
      string,
      Record<string, string>
    >;
    expect(ini["osad2-proxy"]?.upstream).toBe("dmz.example.com:5558");
    // Every proxy key, a child's too, is the server's to admit.
    expect(await readPublicKey(join(certificates, "proxies", "branch7.key"))).toBe(
      branch7.publicKey,
    );
    expect(
      (await readCertificate(join(certificates, "proxies", "branch7.key"))).metadata,
    ).toMatchObject({ parent: "dmz", host: "b7.example.com" });
  });

  it("rpmlint with the committed rpmlintrc: 0 errors, and only warnings the README justifies", async () => {
    const lint = await run("rpmlint", [
      "--ignore-unused-rpmlintrc",
      "-r",
      join(PACKAGER_README, "..", "rpmlintrc"),
      dmzRpm,
      branch7.rpmPath ?? "",
    ]);
    expect(lint.stdout, lint.stdout + lint.stderr).toContain(
      "2 packages and 0 specfiles checked; 0 errors",
    );
    expect(lint.code, lint.stdout).toBe(0);
    const kinds = new Set(
      lint.stdout
        .split("\n")
        .filter((line) => / W: /.test(line))
        .map((line) => / W: (\S+)/.exec(line)?.[1] ?? line),
    );
    const section = (await readFile(PACKAGER_README, "utf8")).split("### rpmlint")[1] ?? "";
    for (const kind of kinds) expect(section, `README justifies ${kind}`).toContain(`\`${kind}\``);
    expect(kinds.has("no-documentation")).toBe(false);
  });
});

describe("createproxy --no-rpm", () => {
  it("writes the same files as a tree <out>/osad2-proxy-keys-NAME/ (0700) with their modes, under umask 000", async () => {
    const treeOut = join(dir, "trees");
    const result = await packager([
      "createproxy",
      "edge1",
      "--no-rpm",
      "--keys-dir",
      certificates,
      "--output",
      treeOut,
      "--upstream",
      "[2001:db8::1]",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const tree = join(treeOut, "osad2-proxy-keys-edge1");
    expect(result.stdout).toContain(`built ${tree}/`);
    expect(result.stdout).toMatch(
      /^no --host recorded: createclient --proxy edge1 needs --server-host$/m,
    );
    expect(await mode(tree)).toBe(0o700);
    expect(await mode(join(tree, PROXY_PATHS.secretKey))).toBe(0o600);
    expect(await mode(join(tree, PROXY_PATHS.privateKeysDir))).toBe(0o700);
    expect(await mode(join(tree, PROXY_PATHS.publicKey))).toBe(0o644);
    expect(await mode(join(tree, PROXY_PATHS.config))).toBe(0o644);
    expect(await readdir(treeOut)).toEqual(["osad2-proxy-keys-edge1"]);
    const ini = parseIni(await readFile(join(tree, PROXY_PATHS.config), "utf8")) as Record<
      string,
      Record<string, string>
    >;
    expect(ini["osad2-proxy"]?.upstream).toBe("[2001:db8::1]:5558");
    expect((await readKeyPair(join(tree, PROXY_PATHS.secretKey))).publicKey).toBe(
      await readPublicKey(join(certificates, "proxies", "edge1.key")),
    );
  });
});

describe("createproxy refuses, changing nothing", () => {
  it.each([
    ["an existing proxy", ["dmz", "--host", "x.example.com"], 1, /proxy "dmz" already exists/],
    ["an unknown parent", ["p1", "--parent", "nope"], 1, /proxy "nope" is not a known proxy/],
    [
      "a parent without a recorded host and no --upstream",
      ["p2", "--parent", "edge1"],
      2,
      /invalid --upstream: parent proxy edge1 has no recorded host/,
    ],
    [
      "a host with a port",
      ["p3", "--host", "h.example.com:5556"],
      2,
      /invalid --host: .*without a port/,
    ],
    ["a bad upstream", ["p4", "--upstream", "bad host"], 2, /invalid --upstream/],
    ["a bad name", ["../x"], 2, /invalid proxy name/],
    ["its own parent", ["dmz2", "--parent", "dmz2"], 2, /own parent/],
  ])("%s", async (_what, args, code, message) => {
    const before = await listTree(dir);
    const result = await packager([
      "createproxy",
      ...args,
      "--certificates",
      certificates,
      "--out",
      out,
    ]);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(await listTree(dir)).toEqual(before);
  });

  it("a certificates directory without the server key", async () => {
    const wrong = await temps.make();
    const result = await packager(["createproxy", "p5", "--certificates", wrong, "--out", out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/server public key .*server\.key does not exist/);
    expect(await readdir(wrong)).toEqual([]);
  });
});

describe("createclient --proxy", () => {
  it("trusts the proxy's public key and connects to the proxy's recorded host", async () => {
    const client = await createClientPackage({
      name: "pos01",
      certificates,
      out: join(dir, "client-rpms"),
      proxy: "branch7",
      keysOnly: true,
    });
    const root = join(dir, "root-pos01");
    expect((await rpmInstall(root, client.rpmPath)).code).toBe(0);
    expect(await readPublicKey(join(root, CLIENT_PATHS.serverKey))).toBe(branch7.publicKey);
    const config = parseIni(await readFile(join(root, CLIENT_PATHS.config), "utf8")) as {
      osad: Record<string, string>;
    };
    expect(config.osad.server_host).toBe("b7.example.com");
    // The client's own key is a client key of the server, as for any system.
    expect(await readPublicKey(join(certificates, "public_keys", "pos01.key"))).toBe(
      client.publicKey,
    );
    const info = await run("rpm", ["-qp", "--qf", "%{DESCRIPTION}", client.rpmPath]);
    expect(info.stdout.replace(/\s+/g, " ")).toContain("proxy branch7 (b7.example.com)");
  });

  it("--server-host wins over the recorded host; a proxy without one needs it; an unknown proxy is refused", async () => {
    const rpms = join(dir, "client-rpms");
    const given = await packager([
      "createclient",
      "--name",
      "pos02",
      "--proxy",
      "edge1",
      "--server-host",
      "edge1.example.com",
      "--keys-only",
      "--certificates",
      certificates,
      "--out",
      rpms,
    ]);
    expect(given.code, given.stderr).toBe(0);
    const before = await listTree(dir);
    const missing = await packager([
      "createclient",
      "--name",
      "pos03",
      "--proxy",
      "edge1",
      "--keys-only",
      "--certificates",
      certificates,
      "--out",
      rpms,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/invalid --server-host: proxy edge1 has no recorded host/);
    const unknown = await packager([
      "createclient",
      "--name",
      "pos03",
      "--proxy",
      "nope",
      "--keys-only",
      "--certificates",
      certificates,
      "--out",
      rpms,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/proxy "nope" is not a known proxy .*createproxy nope/);
    expect(await listTree(dir)).toEqual(before);
  });
});

describe("re-issuing a proxy's key: keys revoke --proxy, then createproxy --release 2", () => {
  it("rpm -U installs the new key pair and keeps an edited osad2-proxy.conf (noreplace)", async () => {
    const rpms = join(dir, "reissue");
    const first = await createProxyPackage({
      name: "edge2",
      host: "edge2.example.com",
      certificates,
      out: rpms,
    });
    const root = join(dir, "root-edge2");
    expect((await rpmInstall(root, first.rpmPath ?? "")).code).toBe(0);
    const configPath = join(root, PROXY_PATHS.config);
    await appendFile(configPath, "; edited by the admin\n");

    const revoked = await packager([
      "keys",
      "revoke",
      "edge2",
      "--proxy",
      "--certificates",
      certificates,
    ]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const second = await createProxyPackage({
      name: "edge2",
      host: "edge2.example.com",
      certificates,
      out: rpms,
      release: 2,
    });
    expect(second.publicKey).not.toBe(first.publicKey);
    const upgrade = await rpmInstall(root, second.rpmPath ?? "", { upgrade: true });
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect((await readKeyPair(join(root, PROXY_PATHS.secretKey))).publicKey).toBe(second.publicKey);
    expect(await mode(join(root, PROXY_PATHS.secretKey))).toBe(0o600);
    expect(await readFile(configPath, "utf8")).toContain("; edited by the admin");
    expect(await readFile(`${configPath}.rpmnew`, "utf8")).toContain("upstream = ");
    const proxies = await KeyStore.open(certificates, {
      allowList: "proxies",
      pollIntervalMs: 0,
      fsWatch: false,
    });
    try {
      expect(proxies.has(second.publicKey)).toBe(true);
      expect(proxies.has(first.publicKey)).toBe(false);
    } finally {
      await proxies.close();
    }
  });
});
