// `keys list`, `keys revoke` and re-issue with an overlap, through the built CLI, under umask 000.
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  KeyStore,
  createServerKeyPair,
  keyUsagePath,
  readPublicKey,
  writeKeyUsage,
  type KeyUsage,
} from "@osad2/keys";
import type { KeyList } from "../src/index.js";
import { PACKAGER_CLI, TempDirs, run, type RunResult } from "./helpers.js";

const dirs = new TempDirs();
let root: string;
let certificates: string;
let stateDir: string;
let out: string;

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

function createClient(select: readonly string[], ...extra: string[]): Promise<RunResult> {
  return packager([
    "createclient",
    ...select,
    "--keys-only",
    "--certificates",
    certificates,
    "--out",
    out,
    "--server-host",
    "127.0.0.1",
    ...extra,
  ]);
}

const mode = (path: string): number => statSync(path).mode & 0o777;
const listArgs = (): string[] => [
  "keys",
  "list",
  "--certificates",
  certificates,
  "--state-dir",
  stateDir,
];
const files = (dir: string): string[] => readdirSync(join(certificates, dir)).sort();

const USAGE: KeyUsage = {
  serverId: 1000010001,
  profileName: "web01.example.com",
  clientName: "c0ffee",
  address: "10.0.0.5",
  firstSeen: "2026-12-01T10:00:00.000Z",
  lastSeen: "2026-12-02T04:00:00.000Z",
};

beforeAll(async () => {
  root = await dirs.make();
  certificates = join(root, "certs");
  stateDir = join(root, "state");
  out = join(root, "rpms");
  await createServerKeyPair(certificates);
  await mkdir(stateDir);
});
afterAll(() => dirs.removeAll());

describe("osad2-packager createclient --force: re-issue with an overlap", () => {
  it("keeps the old key allowed in retiring/ (0644 in a 0755 dir, RPM 0600) and says until when", async () => {
    expect((await createClient(["--name", "web01"])).code).toBe(0);
    const oldKey = await readPublicKey(join(certificates, "public_keys", "web01.key"));
    const before = Date.now();
    const reissued = await createClient(["--name", "web01"], "--force", "--release", "2");
    expect(reissued.stderr).toBe("");
    expect(reissued.code).toBe(0);
    expect(reissued.stdout).toMatch(
      /^old key kept allowed as .*\/retiring\/web01\.\d{8}T\d{9}Z\.key until \S+ or until the new key first connects, then moved to revoked\/$/m,
    );
    const [retiring] = files("retiring");
    const path = join(certificates, "retiring", retiring ?? "");
    expect(await readPublicKey(path)).toBe(oldKey);
    expect(mode(path)).toBe(0o644);
    expect(mode(join(certificates, "retiring"))).toBe(0o755);
    expect(mode(join(certificates, "public_keys", "web01.key"))).toBe(0o644);
    expect(mode(join(out, "osad2-client-web01-0.1.0-2.noarch.rpm"))).toBe(0o600);

    const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(store.has(oldKey)).toBe(true);
      const deadline = store.listRetiring()[0]?.deadline.getTime() ?? 0;
      // The default overlap: 7 days from the re-issue.
      expect(deadline - before).toBeGreaterThanOrEqual(7 * 86_400_000);
      expect(deadline - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
    } finally {
      await store.close();
    }
  });

  it("with --overlap 0 (also in the bulk form) revokes the old keys at once", async () => {
    const names = join(root, "names.txt");
    await writeFile(names, "db01\ndb02\n");
    expect((await createClient(["--names-from", names])).code).toBe(0);
    const result = await createClient(["--names-from", names], "--force", "--overlap", "0");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok db01: .*; old key revoked: .*\/revoked\/db01\.\S+\.key$/m);
    expect(result.stdout).toMatch(/^ok db02: .*; old key revoked: .*\/revoked\/db02\.\S+\.key$/m);
    expect(files("revoked").map((f) => f.split(".")[0])).toEqual(["db01", "db02"]);
    expect(files("retiring").every((f) => f.startsWith("web01."))).toBe(true);
    for (const file of files("revoked"))
      expect(mode(join(certificates, "revoked", file))).toBe(0o644);
  });

  it("refuses an overlap without a unit as a usage error, changing nothing", async () => {
    const before = [files("public_keys"), files("retiring"), files("revoked")];
    const result = await createClient(["--name", "web01"], "--force", "--overlap", "7");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--overlap.*a number with a unit: 30m, 12h, 7d/);
    expect([files("public_keys"), files("retiring"), files("revoked")]).toEqual(before);
  });
});

describe("osad2-packager keys list", () => {
  it("lists allowed, retiring and revoked keys with their system and last seen, as a table and as JSON", async () => {
    await writeKeyUsage(keyUsagePath(stateDir), new Map([["web01", USAGE]]));
    const table = await packager(listArgs());
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^NAME\s+KIND\s+STATE\s+SYSTEM\s+CLIENT\s+LAST SEEN\s+ADDRESS\s+NOTE$/,
    );
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 3).join(" "))).toEqual([
      "db01 client allowed",
      "db01 client revoked",
      "db02 client allowed",
      "db02 client revoked",
      "web01 client allowed",
      "web01 client retiring",
    ]);
    expect(table.stdout).toMatch(
      /^web01 +client +retiring +1000010001 \(web01\.example\.com\) +c0ffee +2026-12-02T04:00:00\.000Z +10\.0\.0\.5 +allowed until \S+ or until the new key first connects$/m,
    );
    expect(table.stdout).toMatch(/^db01 +client +allowed +- +- +never +-$/m);
    expect(table.stdout).toMatch(/^db01 +client +revoked .* revoked 20\d\d-\S+Z$/m);
    expect(table.stdout).not.toMatch(/^server /m);

    const json = await packager([...listArgs(), "--json"]);
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as KeyList;
    expect(list.usageFile).toBe(keyUsagePath(stateDir));
    expect(list.usageError).toBeNull();
    const web01 = list.keys.filter((k) => k.name === "web01");
    expect(web01.map((k) => k.state)).toEqual(["allowed", "retiring"]);
    expect(list.keys.every((k) => k.kind === "client")).toBe(true);
    expect(web01[0]?.usage).toEqual(USAGE);
    expect(web01[1]?.deadline).toMatch(/^20\d\d-\d\d-\d\dT/);
    expect(list.keys.find((k) => k.name === "db01")?.usage).toBeNull();
    const revoked = list.keys.find((k) => k.state === "revoked");
    expect(revoked?.revokedAt).toMatch(/^20\d\d-/);
    expect(revoked?.path).toContain("/revoked/");
  });

  it("without a key-usage file says never seen; with a corrupt one lists the keys, says why on stderr, exits 1", async () => {
    const empty = await packager([
      "keys",
      "list",
      "--certificates",
      certificates,
      "--state-dir",
      join(root, "none"),
    ]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^web01 +client +allowed +- +- +never/m);

    writeFileSync(keyUsagePath(stateDir), "{ not json");
    const corrupt = await packager(listArgs());
    expect(corrupt.code).toBe(1);
    expect(corrupt.stdout).toMatch(/^web01 +client +retiring +\? +\? +\? +\? +allowed until/m);
    expect(corrupt.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(
        /^osad2-packager: systems and last-seen times unknown: .*key-usage\.json: is not JSON; .*Move it away/,
      ),
    ]);
    const json = await packager([...listArgs(), "--json"]);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as KeyList).usageError).toMatch(/is not JSON/);
  });

  it("refuses a directory without the server key and creates nothing there", async () => {
    const wrong = await dirs.make();
    const result = await packager(["keys", "list", "--certificates", wrong]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^osad2-packager: server public key .*server\.key does not exist/,
    );
    expect(readdirSync(wrong)).toEqual([]);
  });
});

describe("osad2-packager keys revoke", () => {
  it("moves the allowed key and the retiring key of the name to revoked/; revokeclient is the same", async () => {
    const result = await packager(["keys", "revoke", "web01", "--certificates", certificates]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^client web01 revoked: its key is now .*\/revoked\/web01\.\S+\.key\n {2}its retiring key \S+ too: .*\/revoked\/web01\.\S+\.key\n$/,
    );
    expect(existsSync(join(certificates, "public_keys", "web01.key"))).toBe(false);
    expect(files("retiring")).toEqual([]);
    expect(files("revoked").filter((f) => f.startsWith("web01."))).toHaveLength(2);

    const alias = await packager([
      "revokeclient",
      "--name",
      "db01",
      "--certificates",
      certificates,
    ]);
    expect(alias.code).toBe(0);
    expect(alias.stdout).toMatch(/^client db01 revoked: its key is now .*\/revoked\/db01\./);
    const again = await packager(["keys", "revoke", "db01", "--certificates", certificates]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^osad2-packager: no key named "db01"/);
  });
});

describe("osad2-packager keys list and keys revoke: proxies", () => {
  const createProxy = (name: string, ...extra: string[]): Promise<RunResult> =>
    packager([
      "createproxy",
      name,
      "--no-rpm",
      "--certificates",
      certificates,
      "--out",
      out,
      ...extra,
    ]);

  it("lists proxies (KIND proxy, no usage) beside clients; JSON has kind", async () => {
    expect((await createProxy("dmz", "--host", "dmz.example.com")).code).toBe(0);
    // A usage entry under a proxy's name is a client's business, never the proxy's.
    await writeKeyUsage(keyUsagePath(stateDir), new Map([["dmz", USAGE]]));
    const table = await packager(listArgs());
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^dmz +proxy +allowed +- +- +never +- +host dmz\.example\.com$/m);
    const list = JSON.parse((await packager([...listArgs(), "--json"])).stdout) as KeyList;
    const dmz = list.keys.filter((k) => k.name === "dmz");
    expect(dmz.map((k) => [k.kind, k.state, k.usage, k.proxy])).toEqual([
      ["proxy", "allowed", null, { host: "dmz.example.com", parent: null }],
    ]);
    expect(list.keys.filter((k) => k.kind === "client").every((k) => k.proxy === null)).toBe(true);
    expect(dmz[0]?.path).toBe(join(certificates, "proxies", "dmz.key"));
  });

  it("revokes a proxy by name (found in proxies/), and a revoked proxy stays KIND proxy", async () => {
    const result = await packager(["keys", "revoke", "dmz", "--certificates", certificates]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^proxy dmz revoked: its key is now .*\/revoked\/dmz\.\S+\.key\n$/,
    );
    expect(files("proxies")).toEqual([]);
    const proxies = await KeyStore.open(certificates, {
      allowList: "proxies",
      pollIntervalMs: 0,
      fsWatch: false,
    });
    try {
      expect(proxies.list()).toEqual([]);
    } finally {
      await proxies.close();
    }
    expect((await packager(listArgs())).stdout).toMatch(
      /^dmz +proxy +revoked .* host dmz\.example\.com; revoked 20\S+Z$/m,
    );
  });

  it("a name that is both a client and a proxy needs --client or --proxy (exit 2); unknown fails (exit 1)", async () => {
    expect((await createClient(["--name", "edge"])).code).toBe(0);
    expect((await createProxy("edge", "--host", "edge.example.com")).code).toBe(0);
    const before = [files("public_keys"), files("proxies"), files("revoked")];
    const ambiguous = await packager(["keys", "revoke", "edge", "--certificates", certificates]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr.trimEnd().split("\n")).toEqual([
      'osad2-packager: both a client and a proxy are named "edge"; pass --client or --proxy to say which to revoke',
    ]);
    const unknown = await packager(["keys", "revoke", "nope", "--certificates", certificates]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^osad2-packager: no key named "nope": neither a client .* nor a proxy/,
    );
    const wrongKind = await packager([
      "keys",
      "revoke",
      "db02",
      "--proxy",
      "--certificates",
      certificates,
    ]);
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toMatch(
      /no key named "db02": no allowed proxy of that name in proxies\//,
    );
    expect([files("public_keys"), files("proxies"), files("revoked")]).toEqual(before);

    const proxy = await packager([
      "keys",
      "revoke",
      "edge",
      "--proxy",
      "--certificates",
      certificates,
    ]);
    expect(proxy.code, proxy.stderr).toBe(0);
    expect(proxy.stdout).toMatch(/^proxy edge revoked/);
    expect(files("proxies")).toEqual([]);
    expect(files("public_keys")).toContain("edge.key");
    // Now only the client has the name: found without a flag.
    const client = await packager(["keys", "revoke", "edge", "--certificates", certificates]);
    expect(client.code, client.stderr).toBe(0);
    expect(client.stdout).toMatch(/^client edge revoked/);
  });
});
