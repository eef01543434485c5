import { KeyStore, readKeyPair, readPublicKey } from "@osad2/keys";
import { appendFile, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_PATHS,
  PACKAGER_VERSION,
  createClientPackage,
  createServerKeys,
  type ClientPackage,
} from "../src/index.js";
import { TempDirs, rpmInstall, run } from "./helpers.js";

const temps = new TempDirs();
let dir: string;
let certificates: string;
let serverPublicKey: string;
let client: ClientPackage;

beforeAll(async () => {
  dir = await temps.make();
  certificates = join(dir, "certs");
  serverPublicKey = (await createServerKeys({ certificates, config: false })).publicKey;
  // No client bundle needed: point it somewhere empty to prove keys-only never reads it.
  client = await createClientPackage({
    name: "db.example",
    certificates,
    out: join(dir, "new", "rpms"),
    serverHost: "10.0.0.5",
    keysOnly: true,
    clientBundleDir: join(dir, "no-bundle"),
  });
}, 60_000);

afterAll(() => temps.removeAll());

describe("createClientPackage --keys-only", () => {
  it("builds a noarch RPM (creating the output directory) with only the keys, the config, the clientCaps.d file, osad2's LICENSE and the client README", async () => {
    expect(basename(client.rpmPath)).toBe(
      `osad2-client-db.example-${PACKAGER_VERSION}-1.noarch.rpm`,
    );
    const listing = await run("rpm", ["-qlvp", client.rpmPath]);
    expect(listing.code).toBe(0);
    const paths = listing.stdout
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/\s+/).at(-1));
    expect(paths.sort()).toEqual(
      [
        CLIENT_PATHS.configDir,
        CLIENT_PATHS.certsDir,
        CLIENT_PATHS.secretKey,
        CLIENT_PATHS.serverKey,
        CLIENT_PATHS.config,
        CLIENT_PATHS.clientCaps,
        "/usr/share/doc/osad2-client-db.example",
        "/usr/share/doc/osad2-client-db.example/README.md",
        "/usr/share/licenses/osad2-client-db.example",
        "/usr/share/licenses/osad2-client-db.example/LICENSE",
      ].sort(),
    );
    const flags = await run("rpm", [
      "-qp",
      "--qf",
      "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]",
      client.rpmPath,
    ]);
    expect(flags.stdout).toContain("/usr/share/licenses/osad2-client-db.example/LICENSE l\n");
    expect(flags.stdout).toContain("/usr/share/doc/osad2-client-db.example/README.md d\n");
    expect(listing.stdout).toMatch(
      /^-rw-------\s+1 root\s+root .* \/etc\/rhn\/osad2-client\/certs\/client\.key_secret$/m,
    );
  });

  it("has no scriptlets and no nodejs requirement, and rpm -K is OK", async () => {
    const scripts = await run("rpm", ["-qp", "--scripts", client.rpmPath]);
    expect(scripts.stdout.trim()).toBe("");
    const requires = await run("rpm", ["-qp", "--requires", client.rpmPath]);
    expect(requires.stdout).not.toContain("nodejs");
    const info = await run("rpm", [
      "-qp",
      "--qf",
      "%{NAME}|%{ARCH}|%{LICENSE}|%{SUMMARY}",
      client.rpmPath,
    ]);
    expect(info.stdout).toBe(
      "osad2-client-db.example|noarch|GPL-2.0-only|CURVE keys and osad2 client configuration for system db.example",
    );
    const check = await run("rpm", ["-K", client.rpmPath]);
    expect(check.stdout).toContain("digests OK");
  });

  it("installs keys that match the allow-list entry", async () => {
    const root = join(dir, "root");
    const install = await rpmInstall(root, client.rpmPath);
    expect(install.code, install.stderr).toBe(0);
    expect((await stat(join(root, CLIENT_PATHS.secretKey))).mode & 0o777).toBe(0o600);
    const pair = await readKeyPair(join(root, CLIENT_PATHS.secretKey));
    expect(pair.publicKey).toBe(client.publicKey);
    expect(await readPublicKey(join(root, CLIENT_PATHS.serverKey))).toBe(serverPublicKey);
    // The npm-installed client gets Spacewalk's web UI ping too.
    expect(await readFile(join(root, "etc/sysconfig/rhn/clientCaps.d/osad2"), "utf8")).toBe(
      "osad.ping(1)=1\nosad.rhn_check(1)=1\n",
    );
    const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(store.get("db.example")?.publicKey).toBe(pair.publicKey);
    } finally {
      await store.close();
    }
  });

  it("without --server-host leaves server_host commented out: the client follows register_osad's endpoints (failover)", async () => {
    const plain = await createClientPackage({
      name: "db2.example",
      certificates,
      out: join(dir, "plain"),
      keysOnly: true,
    });
    const root = join(dir, "plain-root");
    expect((await rpmInstall(root, plain.rpmPath)).code).toBe(0);
    const text = await readFile(join(root, CLIENT_PATHS.config), "utf8");
    expect(text).toMatch(/^;server_host =/m);
    expect(text).not.toMatch(/^server_host\b/m);
    expect(text).toMatch(/^server_public_key = /m);
    const description = await run("rpm", ["-qp", "--qf", "%{DESCRIPTION}", plain.rpmPath]);
    expect(description.stdout.replace(/\s+/g, " ")).toContain("the servers its registration names");
  });

  it("re-issuing with --force --release 2 upgrades: new key installed, an edited config kept (noreplace)", async () => {
    const root = join(dir, "upgrade-root");
    expect((await rpmInstall(root, client.rpmPath)).code).toBe(0);
    const configPath = join(root, CLIENT_PATHS.config);
    await appendFile(configPath, "; edited by the admin\n");

    const reissued = await createClientPackage({
      name: "db.example",
      certificates,
      out: join(dir, "new", "rpms"),
      serverHost: "10.0.0.6",
      keysOnly: true,
      force: true,
      release: 2,
    });
    expect(basename(reissued.rpmPath)).toBe(
      `osad2-client-db.example-${PACKAGER_VERSION}-2.noarch.rpm`,
    );
    const upgrade = await rpmInstall(root, reissued.rpmPath, { upgrade: true });
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect((await readKeyPair(join(root, CLIENT_PATHS.secretKey))).publicKey).toBe(
      reissued.publicKey,
    );
    expect(await readFile(configPath, "utf8")).toContain("; edited by the admin");
    expect(await readFile(`${configPath}.rpmnew`, "utf8")).toContain("server_host = 10.0.0.6");
    const query = await run("rpm", [
      "-q",
      "--root",
      root,
      "--dbpath",
      "/var/lib/rpm",
      "osad2-client-db.example",
    ]);
    expect(query.stdout.trim()).toBe(`osad2-client-db.example-${PACKAGER_VERSION}-2.noarch`);
  });
});
