// One full client RPM, built once and judged only by the real rpm tool and @osad2/keys.
import { KeyStore, isCurveKey, readKeyPair, readPublicKey } from "@osad2/keys";
import { parse as parseIni } from "ini";
import { mkdir, readFile, readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_PATHS,
  PACKAGER_VERSION,
  createClientPackage,
  createServerKeys,
  rpmArchFor,
  type ClientPackage,
} from "../src/index.js";
import { TempDirs, rpmInstall, run } from "./helpers.js";

const temps = new TempDirs();
/** Where @osad2/client ships the files its RPM must carry unchanged (they exist once, there). */
const CLIENT_DIST = join(
  dirname(createRequire(import.meta.url).resolve("@osad2/client/package.json")),
  "dist",
);
const ARCH = rpmArchFor(process.arch) ?? "unsupported";
const OTHER_NODE_ARCH = process.arch === "arm64" ? "x64" : "arm64";

let dir: string;
let certificates: string;
let tmpDir: string;
let root: string;
let serverPublicKey: string;
let client: ClientPackage;
let buildMs: number;

beforeAll(async () => {
  dir = await temps.make();
  certificates = join(dir, "certs");
  tmpDir = join(dir, "tmp");
  root = join(dir, "root");
  await mkdir(tmpDir);
  serverPublicKey = (await createServerKeys({ certificates, config: false })).publicKey;
  const started = Date.now();
  client = await createClientPackage({
    name: "web01",
    certificates,
    out: join(dir, "rpms"),
    serverHost: "spacewalk.example.com",
    release: "3",
    tmpDir,
  });
  buildMs = Date.now() - started;
  const install = await rpmInstall(root, client.rpmPath);
  if (install.code !== 0) throw new Error(`rpm -i failed: ${install.stderr}`);
}, 120_000);

afterAll(() => temps.removeAll());

const rpmQueryOf = async (rpmPath: string, ...args: string[]): Promise<string> => {
  const result = await run("rpm", ["-qp", ...args, rpmPath]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
};
const rpmQuery = (...args: string[]): Promise<string> => rpmQueryOf(client.rpmPath, ...args);

describe("createClientPackage: the RPM", () => {
  it("is named osad2-client-NAME-VERSION-RELEASE.ARCH.rpm and left no temporary files", async () => {
    expect(basename(client.rpmPath)).toBe(`osad2-client-web01-${PACKAGER_VERSION}-3.${ARCH}.rpm`);
    expect(client).toMatchObject({ name: "web01", arch: ARCH, keysOnly: false });
    expect(isCurveKey(client.publicKey)).toBe(true);
    expect(await readdir(tmpDir)).toEqual([]);
    expect(await readdir(join(dir, "rpms"))).toEqual([basename(client.rpmPath)]);
    expect(buildMs).toBeLessThan(60_000);
  });

  it("is 0600: it carries the system's secret key, which rpm2cpio would hand to any reader", async () => {
    expect((await stat(client.rpmPath)).mode & 0o777).toBe(0o600);
  });

  it("rpm -qip shows name, version, release, summary, license, group and URL", async () => {
    const info = await rpmQuery("-i");
    expect(info).toMatch(/^Name\s+: osad2-client-web01$/m);
    expect(info).toMatch(
      new RegExp(`^Version\\s+: ${PACKAGER_VERSION.replace(/\./g, "\\.")}$`, "m"),
    );
    expect(info).toMatch(/^Release\s+: 3$/m);
    expect(info).toMatch(new RegExp(`^Architecture: ${ARCH}$`, "m"));
    expect(info).toMatch(/^License\s+: GPL-2\.0-only$/m);
    expect(info).toMatch(/^Group\s+: System Environment\/Daemons$/m);
    expect(info).toMatch(/^URL\s+: https:\/\/\S+$/m);
    expect(info).toMatch(/^Summary\s+: osad2 push client .*web01$/m);
    expect(info).toContain("spacewalk.example.com");
  });

  it("rpm -qlvp lists every file with client.key_secret as -rw------- root root", async () => {
    const listing = await rpmQuery("-lv");
    const entries = new Map<string, string>();
    for (const line of listing.trim().split("\n")) {
      const fields = line.trim().split(/\s+/);
      entries.set(fields.at(-1) ?? "", `${fields[0]} ${fields[2]} ${fields[3]}`);
    }
    expect(entries.get(CLIENT_PATHS.secretKey)).toBe("-rw------- root root");
    expect(entries.get(CLIENT_PATHS.serverKey)).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.config)).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.bin)).toBe("-rwxr-xr-x root root");
    expect(entries.get(CLIENT_PATHS.unit)).toBe("-rw-r--r-- root root");
    expect(entries.get("/etc/sysconfig/rhn/clientCaps.d/osad2")).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.certsDir)).toBe("drwx------ root root");
    expect(entries.get(CLIENT_PATHS.configDir)).toBe("drwxr-xr-x root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/cli.js`)).toBe("-rwxr-xr-x root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/dist/cli.js`)).toBe("-rwxr-xr-x root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/package.json`)).toBe("-rw-r--r-- root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/node_modules/zeromq/lib/index.js`)).toBeDefined();
    expect(
      entries.get(`${CLIENT_PATHS.libDir}/node_modules/cmake-ts/build/loader.js`),
    ).toBeDefined();
    const addons = [...entries.keys()].filter((path) => path.endsWith(".node"));
    expect(addons).toHaveLength(1);
    expect(addons[0]).toContain(`/build/linux/${process.arch}/node/glibc-`);
    expect([...entries.keys()].some((path) => path.includes(`/linux/${OTHER_NODE_ARCH}`))).toBe(
      false,
    );
    expect([...entries.keys()].some((path) => path.includes("osad2-bundle.json"))).toBe(false);
  });

  it("marks only the client config and clientCaps.d/osad2 as %config(noreplace), as classic osad marks its caps file", async () => {
    const flags = await rpmQuery("--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]");
    const configs = flags
      .trim()
      .split("\n")
      .filter((line) => / \S*c\S*$/.test(line));
    expect(configs.sort()).toEqual(
      [`${CLIENT_PATHS.config} cn`, `${CLIENT_PATHS.clientCaps} cn`].sort(),
    );
  });

  it("rpm -K reports the digests OK", async () => {
    const result = await run("rpm", ["-K", client.rpmPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("digests OK");
  });

  it("rpm -qp --scripts shows %post enabling and %preun stopping the service", async () => {
    const scripts = await rpmQuery("--scripts");
    expect(scripts).toContain("postinstall scriptlet");
    expect(scripts).toMatch(/if \[ -d \/run\/systemd\/system \]; then\n\s+systemctl daemon-reload/);
    expect(scripts).toContain("systemctl enable --now osad2-client.service");
    expect(scripts).toContain("preuninstall scriptlet");
    expect(scripts).toMatch(
      /if \[ "\$1" -eq 0 \] && \[ -d \/run\/systemd\/system \]; then\n\s+systemctl disable --now osad2-client.service/,
    );
  });

  it("requires nodejs >= 20, provides osad2-client and has a %changelog", async () => {
    expect((await rpmQuery("--requires")).split("\n")).toContain("nodejs >= 20");
    expect((await rpmQuery("--provides")).split("\n")).toContain(
      `osad2-client = ${PACKAGER_VERSION}-3`,
    );
    const changelog = await rpmQuery("--changelog");
    expect(changelog).toMatch(
      /^\* \w{3} \w{3} \d{2} \d{4} osad2-packager <root@spacewalk\.example\.com> - /m,
    );
    expect(changelog).toContain("for system web01");
  });
});

describe("createClientPackage: the installed tree (rpm -i --root --nodeps --noscripts)", () => {
  it("declares osad.ping and osad.rhn_check in clientCaps.d/osad2, @osad2/client's file unchanged", async () => {
    // Spacewalk's web UI shows "OSA Status" and "Ping System" only for systems capable of osad.ping.
    const caps = await readFile(join(root, "etc/sysconfig/rhn/clientCaps.d/osad2"), "utf8");
    expect(caps).toBe("osad.ping(1)=1\nosad.rhn_check(1)=1\n");
    expect(caps).toBe(await readFile(join(CLIENT_DIST, "clientCaps.d", "osad2"), "utf8"));
    expect(await rpmQuery("-c")).toContain("/etc/sysconfig/rhn/clientCaps.d/osad2");
  });

  it("holds a 0600 client.key_secret that @osad2/keys loads, pyzmq-style, matching public_keys/web01.key", async () => {
    const secretPath = join(root, CLIENT_PATHS.secretKey);
    expect((await stat(secretPath)).mode & 0o777).toBe(0o600);
    const pair = await readKeyPair(secretPath);
    expect(pair.publicKey).toBe(client.publicKey);
    expect(pair.secretKey).not.toBe(pair.publicKey); // the seed's bug: the public key copied into key_secret
    expect(await readPublicKey(join(certificates, "public_keys", "web01.key"))).toBe(
      pair.publicKey,
    );
    const text = await readFile(secretPath, "utf8");
    expect(text).toMatch(/^curve\n {4}public-key = "[^"]{40}"\n {4}secret-key = "[^"]{40}"$/m);
  });

  it("holds the server's public key and no secret of the server", async () => {
    const serverKeyPath = join(root, CLIENT_PATHS.serverKey);
    expect(await readPublicKey(serverKeyPath)).toBe(serverPublicKey);
    expect(await readFile(serverKeyPath, "utf8")).not.toContain("secret-key");
  });

  it("has a config with server_host and the key paths, a service unit and a wrapper", async () => {
    const config = parseIni(await readFile(join(root, CLIENT_PATHS.config), "utf8")) as {
      osad: Record<string, string>;
    };
    expect(config.osad).toEqual({
      server_host: "spacewalk.example.com",
      certificates: CLIENT_PATHS.certsDir,
      server_public_key: CLIENT_PATHS.serverKey,
      client_secret_key: CLIENT_PATHS.secretKey,
    });
    const text = await readFile(join(root, CLIENT_PATHS.config), "utf8");
    // @osad2/client's template with this system's values: its commented defaults are still there.
    expect(text).toContain("\n;registry_interval = 20\n");
    expect(text).not.toContain(";server_host =");
    const unit = await readFile(join(root, CLIENT_PATHS.unit), "utf8");
    expect(unit).toBe(await readFile(join(CLIENT_DIST, "systemd", "osad2-client.service"), "utf8"));
    expect(unit).toContain(
      `ExecStart=/usr/bin/env osad2-client run --config ${CLIENT_PATHS.config}`,
    );
    expect(unit).toContain("WantedBy=multi-user.target");
    // systemctl stop must not SIGTERM a running rhn_check: the client drains it itself.
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    const wrapper = await readFile(join(root, CLIENT_PATHS.bin), "utf8");
    expect(wrapper).toBe(`#!/bin/sh\nexec node ${CLIENT_PATHS.libDir}/cli.js "$@"\n`);
  });

  it("loads the bundled zeromq with CURVE from the installed tree", async () => {
    const zeromq = join(root, CLIENT_PATHS.libDir, "node_modules", "zeromq", "lib", "index.js");
    const result = await run(
      process.execPath,
      [
        "-e",
        `const z = require(${JSON.stringify(zeromq)}); console.log(z.version, z.capability.curve)`,
      ],
      { cwd: tmpDir },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toMatch(/^4\.\d+\.\d+ true$/);
  });

  it("runs: node <root>/usr/lib/osad2-client/cli.js --help", async () => {
    const result = await run(
      process.execPath,
      [join(root, CLIENT_PATHS.libDir, "cli.js"), "--help"],
      { cwd: tmpDir },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("run");
    expect(result.stdout).toContain("register");
    expect(result.stdout).toContain("status");
  });
});

describe("createClientPackage: the allow-list", () => {
  it("allows the new client at once and denies it after KeyStore.revoke", async () => {
    const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(store.has(client.publicKey)).toBe(true);
      expect(store.findByPublicKey(client.publicKey)?.name).toBe("web01");
      await store.revoke("web01");
      expect(store.has(client.publicKey)).toBe(false);
    } finally {
      await store.close();
    }
    const reopened = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(reopened.has(client.publicKey)).toBe(false);
    } finally {
      await reopened.close();
    }
  });
});

describe("createClientPackage --arch (cross-building)", () => {
  it("builds the other architecture with only its zeromq addon and a manifest naming it", async () => {
    const otherArch = OTHER_NODE_ARCH === "arm64" ? "aarch64" : "x86_64";
    const other = await createClientPackage({
      name: "cross01",
      certificates,
      out: join(dir, "rpms"),
      serverHost: "spacewalk.example.com",
      arch: otherArch,
      tmpDir,
    });
    expect(basename(other.rpmPath)).toBe(
      `osad2-client-cross01-${PACKAGER_VERSION}-1.${otherArch}.rpm`,
    );
    expect((await rpmQueryOf(other.rpmPath, "--qf", "%{ARCH}")).trim()).toBe(otherArch);
    const files = (await rpmQueryOf(other.rpmPath, "-l")).trim().split("\n");
    const addons = files.filter((path) => path.endsWith(".node"));
    expect(addons).toHaveLength(1);
    expect(addons[0]).toContain(`/build/linux/${OTHER_NODE_ARCH}/node/glibc-`);
    expect(files.some((path) => path.includes(`/linux/${process.arch}`))).toBe(false);

    const crossRoot = join(dir, "cross-root");
    const install = await rpmInstall(crossRoot, other.rpmPath, { ignoreArch: true });
    expect(install.code, install.stderr).toBe(0);
    const manifest = JSON.parse(
      await readFile(
        join(crossRoot, CLIENT_PATHS.libDir, "node_modules/zeromq/build/manifest.json"),
        "utf8",
      ),
    ) as Record<string, string>;
    expect(Object.values(manifest)).toEqual([addons[0]?.replace(/^.*\/zeromq\/build\//, "")]);
    expect(Object.keys(manifest).map((key) => (JSON.parse(key) as { arch: string }).arch)).toEqual([
      OTHER_NODE_ARCH,
    ]);
  });
});
