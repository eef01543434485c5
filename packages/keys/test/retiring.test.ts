// Re-issue with overlap: the old key waits in retiring/ until its successor connects or its
// deadline passes, then moves to revoked/.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  createServerKeyPair,
  generateKeyPair,
  KeyError,
  KeyRevokedError,
  KeyStore,
  writeCertificate,
  type KeyStoreChange,
  type KeyStoreOptions,
} from "../src/index.js";
import { compactTimestamp } from "../src/fs-util.js";
import { caught, TempDirs } from "@osad2/test-helpers";

const dirs = new TempDirs("osad2-keys-retiring-");
const stores: KeyStore[] = [];
const WEEK_MS = 7 * 24 * 3600 * 1000;

async function openStore(root: string, options?: KeyStoreOptions): Promise<KeyStore> {
  const store = await KeyStore.open(root, options);
  stores.push(store);
  return store;
}
const oneShot = { pollIntervalMs: 0, fsWatch: false } as const;

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await dirs.removeAll();
});

/** Resolves with the first change `match` accepts; the bound only ends a hung test. */
function nextChange(
  store: KeyStore,
  match: (c: KeyStoreChange) => boolean,
  seen: KeyStoreChange[] = [],
): Promise<KeyStoreChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no matching key store change")), 15_000);
    const stop = store.watch((change) => {
      seen.push(change);
      if (!match(change)) return;
      clearTimeout(timer);
      stop();
      resolve(change);
    });
  });
}

const mode = (path: string): number => statSync(path).mode & 0o777;

describe("KeyStore.reissue", () => {
  it("keeps the old key allowed in retiring/ (same bytes, 0644 under umask 000) next to the new one", async () => {
    const root = await dirs.make();
    const store = await openStore(root, oneShot);
    const changes: KeyStoreChange[] = [];
    store.watch((c) => changes.push(c));
    const old = await store.add("web01", generateKeyPair().publicKey);
    const oldText = readFileSync(old.path, "utf8");
    const fresh = generateKeyPair().publicKey;

    const previous = process.umask(0);
    const before = Date.now();
    let result;
    try {
      result = await store.reissue("web01", fresh, { overlapMs: WEEK_MS });
    } finally {
      process.umask(previous);
    }
    const retiring = result.retiring;
    expect(retiring?.path).toMatch(/\/retiring\/web01\.\d{8}T\d{9}Z\.key$/);
    expect(retiring?.deadline.getTime()).toBeGreaterThanOrEqual(before + WEEK_MS);
    expect(retiring?.deadline.getTime()).toBeLessThanOrEqual(Date.now() + WEEK_MS);
    expect(readFileSync(retiring?.path ?? "", "utf8")).toBe(oldText);
    expect(mode(retiring?.path ?? "")).toBe(0o644);
    expect(mode(join(root, "retiring"))).toBe(0o755);
    expect(mode(join(root, "public_keys", "web01.key"))).toBe(0o644);

    expect(store.has(old.publicKey)).toBe(true);
    expect(store.has(fresh)).toBe(true);
    expect(store.get("web01")?.publicKey).toBe(fresh);
    expect(store.listRetiring()).toEqual([retiring]);
    // Nobody is cut off: the old key is announced as retiring, never as removed.
    expect(changes.slice(1)).toEqual([
      { type: "retiring", key: retiring },
      { type: "added", key: result.key },
    ]);
    // A server that only reads public_keys/ (an older osad2) sees the new key alone.
    expect(readdirSync(join(root, "public_keys"))).toEqual(["web01.key"]);
    expect(readdirSync(join(root, "revoked"))).toEqual([]);
  });

  it("revokes the retiring key when its successor is admitted, and only then", async () => {
    const root = await dirs.make();
    const store = await openStore(root, oneShot);
    const old = await store.add("web01", generateKeyPair().publicKey);
    const other = await store.add("db01", generateKeyPair().publicKey);
    const fresh = generateKeyPair().publicKey;
    const { retiring } = await store.reissue("web01", fresh, { overlapMs: WEEK_MS });
    const changes: KeyStoreChange[] = [];
    store.watch((c) => changes.push(c));

    // The old client reconnecting, or someone else, changes nothing.
    expect(await store.admitted(old.publicKey)).toEqual([]);
    expect(await store.admitted(other.publicKey)).toEqual([]);
    expect(store.listRetiring()).toHaveLength(1);

    const revoked = await store.admitted(fresh);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.path).toMatch(/\/revoked\/web01\.\d{8}T\d{9}Z\.key$/);
    expect(existsSync(retiring?.path ?? "")).toBe(false);
    expect(store.has(old.publicKey)).toBe(false);
    expect(store.has(fresh)).toBe(true);
    expect(store.listRetiring()).toEqual([]);
    expect(changes).toEqual([{ type: "removed", key: retiring }]);
    // Revoked for good: it cannot come back under any name.
    expect(await caught(() => store.add("web01-old", old.publicKey))).toBeInstanceOf(
      KeyRevokedError,
    );
    expect(await store.admitted(fresh)).toEqual([]);
  });

  it("refuses a retiring key from its deadline on, and a polling store moves it to revoked/ with nobody connecting", async () => {
    const root = await dirs.make();
    const writer = await openStore(root, oneShot);
    await writer.add("web01", generateKeyPair().publicKey);
    const watching = await openStore(root, { pollIntervalMs: 50 });
    const seen: KeyStoreChange[] = [];
    const { retiring } = await writer.reissue("web01", generateKeyPair().publicKey, {
      overlapMs: 400,
    });
    const oldKey = retiring?.publicKey ?? "";
    const removed = await nextChange(
      watching,
      (c) => c.type === "removed" && c.key.publicKey === oldKey,
      seen,
    );
    expect(removed.key.path).toBe(retiring?.path);
    // Never cut off before the deadline, and never announced as removed twice.
    expect(Date.now()).toBeGreaterThanOrEqual(retiring?.deadline.getTime() ?? Infinity);
    expect(seen.filter((c) => c.type === "removed")).toHaveLength(1);
    expect(watching.has(oldKey)).toBe(false);
    expect(existsSync(retiring?.path ?? "")).toBe(false);
    expect(watching.listRevoked().map((k) => k.publicKey)).toEqual([oldKey]);
    expect(readdirSync(join(root, "retiring"))).toEqual([]);
  });

  it("judges the deadline in the file name at the moment it is asked, in any store", async () => {
    const root = await dirs.make();
    const past = generateKeyPair().publicKey;
    const future = generateKeyPair().publicKey;
    const store = await openStore(root, oneShot);
    const stamp = (ms: number) => compactTimestamp(new Date(Date.now() + ms));
    await writeCertificate(join(root, "retiring", `web01.${stamp(-1000)}.key`), {
      publicKey: past,
    });
    await writeCertificate(join(root, "retiring", `web02.${stamp(WEEK_MS)}.key`), {
      publicKey: future,
    });
    await writeCertificate(join(root, "retiring", "web03.key"), {
      publicKey: generateKeyPair().publicKey,
    });
    await store.reload();
    expect(store.has(past)).toBe(false);
    expect(store.has(future)).toBe(true);
    expect(store.listRetiring().map((k) => k.name)).toEqual(["web01", "web02"]);
    // No deadline in the name: never allowed, and said so.
    expect(store.problems().map((p) => p.message)).toEqual([
      expect.stringMatching(/retiring\/web03\.key: ignored, a retiring key is named/),
    ]);
    // A one-shot store does not move files; retireExpired does, when asked.
    expect(readdirSync(join(root, "retiring"))).toHaveLength(3);
    expect((await store.retireExpired()).map((k) => k.publicKey)).toEqual([past]);
    expect(store.listRetiring().map((k) => k.name)).toEqual(["web02"]);
  });

  it("survives a reopen: still allowed, still revoked when the successor is admitted", async () => {
    const root = await dirs.make();
    const first = await openStore(root, oneShot);
    const old = await first.add("web01", generateKeyPair().publicKey);
    const fresh = generateKeyPair().publicKey;
    const { retiring } = await first.reissue("web01", fresh, { overlapMs: WEEK_MS });
    await first.close();

    const reopened = await openStore(root, oneShot);
    expect(reopened.has(old.publicKey)).toBe(true);
    expect(reopened.listRetiring()).toEqual([retiring]);
    await reopened.admitted(fresh);
    expect(reopened.has(old.publicKey)).toBe(false);
    expect(reopened.listRevoked().map((k) => k.publicKey)).toEqual([old.publicKey]);
  });

  it("is heard by another watching store as retiring + added, never removed", async () => {
    const root = await dirs.make();
    const admin = await openStore(root, oneShot);
    const old = await admin.add("web01", generateKeyPair().publicKey);
    const server = await openStore(root);
    const seen: KeyStoreChange[] = [];
    const fresh = generateKeyPair().publicKey;
    const added = nextChange(server, (c) => c.type === "added" && c.key.publicKey === fresh, seen);
    await admin.reissue("web01", fresh, { overlapMs: WEEK_MS });
    await added;
    await server.reload();
    expect(seen.filter((c) => c.type === "removed")).toEqual([]);
    expect(seen.some((c) => c.type === "retiring" && c.key.publicKey === old.publicKey)).toBe(true);
    expect(server.has(old.publicKey)).toBe(true);
  });

  it("with overlap 0 revokes the old key at once; without an old key it is an add", async () => {
    const root = await dirs.make();
    const store = await openStore(root, oneShot);
    const first = await store.reissue("web01", generateKeyPair().publicKey, { overlapMs: 0 });
    expect(first.retiring).toBeUndefined();
    expect(first.revoked).toEqual([]);
    const changes: KeyStoreChange[] = [];
    store.watch((c) => changes.push(c));
    const second = await store.reissue("web01", generateKeyPair().publicKey, { overlapMs: 0 });
    expect(second.revoked.map((k) => k.publicKey)).toEqual([first.key.publicKey]);
    expect(store.has(first.key.publicKey)).toBe(false);
    expect(changes.map((c) => c.type)).toEqual(["removed", "added"]);
    expect(readdirSync(join(root, "retiring"))).toEqual([]);

    const same = await caught(() =>
      store.reissue("web01", second.key.publicKey, { overlapMs: WEEK_MS }),
    );
    expect(same).toBeInstanceOf(KeyError);
    expect(await caught(() => store.reissue("web01", "x", { overlapMs: -1 }))).toBeInstanceOf(
      KeyError,
    );
  });

  it("with overlap 0 revokes the keys of the name still retiring too", async () => {
    const root = await dirs.make();
    const store = await openStore(root, oneShot);
    const a = await store.add("web01", generateKeyPair().publicKey);
    const b = await store.reissue("web01", generateKeyPair().publicKey, { overlapMs: WEEK_MS });
    const c = await store.reissue("web01", generateKeyPair().publicKey, { overlapMs: 0 });
    expect(c.revoked.map((k) => k.publicKey)).toEqual([b.key.publicKey, a.publicKey]);
    expect(store.has(a.publicKey) || store.has(b.key.publicKey)).toBe(false);
    expect(store.has(c.key.publicKey)).toBe(true);
    expect(readdirSync(join(root, "retiring"))).toEqual([]);
  });

  it("revokeAll revokes the allowed key and every retiring key of the name", async () => {
    const root = await dirs.make();
    const store = await openStore(root, oneShot);
    const a = await store.add("web01", generateKeyPair().publicKey);
    const b = (await store.reissue("web01", generateKeyPair().publicKey, { overlapMs: WEEK_MS }))
      .key;
    const c = (await store.reissue("web01", generateKeyPair().publicKey, { overlapMs: WEEK_MS }))
      .key;
    expect(store.listRetiring()).toHaveLength(2);
    const moved = await store.revokeAll("web01");
    expect(moved.map((k) => k.publicKey)).toEqual([c.publicKey, a.publicKey, b.publicKey]);
    for (const key of [a, b, c]) expect(store.has(key.publicKey)).toBe(false);
    expect(readdirSync(join(root, "revoked"))).toHaveLength(3);
    expect(readdirSync(join(root, "retiring"))).toEqual([]);
  });
});

describe("a tree from before retiring/", () => {
  it("opens for a reader who may not write it (nothing is retiring) and says nothing", async () => {
    const root = await dirs.make();
    await createServerKeyPair(root);
    const store = await openStore(root, oneShot);
    const key = await store.add("web01", generateKeyPair().publicKey);
    await store.close();
    rmdirSync(join(root, "retiring"));
    chmodSync(root, 0o555);
    // Root ignores modes: the reader runs as nobody then (the build is what it imports).
    const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const script = `import(${JSON.stringify(built)}).then(async (k) => {
      const s = await k.KeyStore.open(${JSON.stringify(root)}, { pollIntervalMs: 0, fsWatch: false });
      console.log(JSON.stringify({ has: s.has(${JSON.stringify(key.publicKey)}), retiring: s.listRetiring().length, problems: s.problems().length }));
      await s.close();
    })`;
    const asReader =
      process.getuid?.() === 0
        ? [
            "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script],
          ]
        : [process.execPath, ["-e", script]];
    try {
      const { stdout } = await promisify(execFile)(asReader[0] as string, asReader[1] as string[]);
      expect(JSON.parse(stdout)).toEqual({ has: true, retiring: 0, problems: 0 });
    } finally {
      chmodSync(root, 0o755);
    }
    expect(existsSync(join(root, "retiring"))).toBe(false);
  });
});
