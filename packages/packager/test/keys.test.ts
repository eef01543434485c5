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
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+SYSTEM\s+CLIENT\s+LAST SEEN\s+ADDRESS\s+NOTE$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "db01 allowed",
      "db01 revoked",
      "db02 allowed",
      "db02 revoked",
      "web01 allowed",
      "web01 retiring",
    ]);
    expect(table.stdout).toMatch(
      /^web01 +retiring +1000010001 \(web01\.example\.com\) +c0ffee +2026-12-02T04:00:00\.000Z +10\.0\.0\.5 +allowed until \S+ or until the new key first connects$/m,
    );
    expect(table.stdout).toMatch(/^db01 +allowed +- +- +never +-$/m);
    expect(table.stdout).toMatch(/^db01 +revoked .* revoked 20\d\d-\S+Z$/m);
    expect(table.stdout).not.toMatch(/^server /m);

    const json = await packager([...listArgs(), "--json"]);
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as KeyList;
    expect(list.usageFile).toBe(keyUsagePath(stateDir));
    expect(list.usageError).toBeNull();
    const web01 = list.keys.filter((k) => k.name === "web01");
    expect(web01.map((k) => k.state)).toEqual(["allowed", "retiring"]);
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
    expect(empty.stdout).toMatch(/^web01 +allowed +- +- +never/m);

    writeFileSync(keyUsagePath(stateDir), "{ not json");
    const corrupt = await packager(listArgs());
    expect(corrupt.code).toBe(1);
    expect(corrupt.stdout).toMatch(/^web01 +retiring +\? +\? +\? +\? +allowed until/m);
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
