import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  createServerKeyPair,
  generateKeyPair,
  InvalidKeyNameError,
  KeyError,
  KeyExistsError,
  KeyFileError,
  KeyNotFoundError,
  KeyRevokedError,
  KeyStore,
  readPublicKey,
  writeCertificate,
  Z85Error,
  type KeyStoreChange,
  type KeyStoreOptions,
} from "../src/index.js";
import { caught, TempDirs } from "@osad2/test-helpers";
import { isTransientReadError } from "../src/store-scan.js";
import { KEY_FILE_SETTLE_MS } from "../src/store-sync.js";
import { fullScanInterval } from "../src/key-store.js";

const dirs = new TempDirs("osad2-keys-");
afterEach(() => dirs.removeAll());

const sh = promisify(execFile);
/** Runs a shell command in a separate process: a change the store did not make itself. */
async function otherProcess(script: string, cwd: string): Promise<void> {
  await sh("/bin/sh", ["-c", script], { cwd });
}

const stores: KeyStore[] = [];
async function openStore(root: string, options?: KeyStoreOptions): Promise<KeyStore> {
  const store = await KeyStore.open(root, options);
  stores.push(store);
  return store;
}
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/**
 * Collects changes; `next` waits for one matching change and resolves with how long it took.
 * Its bound only ends a hung test: the "within 2 s" promise is asserted on the elapsed time.
 */
function recorder(store: KeyStore): {
  changes: KeyStoreChange[];
  next: (match: (c: KeyStoreChange) => boolean, timeoutMs?: number) => Promise<number>;
} {
  const changes: KeyStoreChange[] = [];
  const waiters: Array<{ match: (c: KeyStoreChange) => boolean; resolve: () => void }> = [];
  store.watch((change) => {
    changes.push(change);
    for (const waiter of [...waiters]) {
      if (waiter.match(change)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  return {
    changes,
    next: (match, timeoutMs = 15_000) => {
      const started = performance.now();
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no matching key store change within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push({
          match,
          resolve: () => {
            clearTimeout(timer);
            resolve(performance.now() - started);
          },
        });
      });
    },
  };
}

/** A public certificate written outside the store's directories, for other processes to move in. */
async function looseCertificate(dir: string, fileName: string): Promise<string> {
  const publicKey = generateKeyPair().publicKey;
  await writeCertificate(join(dir, fileName), { publicKey });
  return publicKey;
}

describe("KeyStore", () => {
  it("creates public_keys/ and revoked/ and starts empty", async () => {
    const root = join(await dirs.make(), "certs");
    const store = await openStore(root);
    expect(existsSync(join(root, "public_keys"))).toBe(true);
    expect(existsSync(join(root, "revoked"))).toBe(true);
    expect(store.list()).toEqual([]);
    expect(store.layout.root).toBe(root);
  });

  it("lists every public_keys/*.key including the server's, ignoring other files", async () => {
    const root = await dirs.make();
    const { keyPair: server } = await createServerKeyPair(root);
    const pub = join(root, "public_keys");
    const a = await looseCertificate(pub, "alpha.key");
    await looseCertificate(pub, ".hidden.key");
    await looseCertificate(pub, "alpha.key.bak");
    writeFileSync(join(pub, "README"), "not a key");
    const store = await openStore(root, { pollIntervalMs: 0, fsWatch: false });
    expect(store.list()).toEqual([
      { name: "alpha", publicKey: a, path: join(pub, "alpha.key") },
      { name: "server", publicKey: server.publicKey, path: join(pub, "server.key") },
    ]);
    expect(store.has(a)).toBe(true);
    expect(store.findByPublicKey(a)?.name).toBe("alpha");
    expect(store.get("alpha")?.publicKey).toBe(a);
    expect(store.has(generateKeyPair().publicKey)).toBe(false);
    expect(store.findByPublicKey("nonsense")).toBeUndefined();
    expect(store.problems()).toEqual([]);
  });

  it("adds keys as 0644 certificates, allowed at once, and tells listeners", async () => {
    const root = await dirs.make();
    const store = await openStore(root);
    const { changes } = recorder(store);
    const pair = generateKeyPair();
    const key = await store.add("0123456789abcdef", pair.publicKey, {
      metadata: { host: "web01" },
    });
    expect(key).toEqual({
      name: "0123456789abcdef",
      publicKey: pair.publicKey,
      path: join(root, "public_keys", "0123456789abcdef.key"),
    });
    expect(store.has(pair.publicKey)).toBe(true);
    expect(changes).toEqual([{ type: "added", key }]);
    expect(statSync(key.path).mode & 0o777).toBe(0o644);
    expect(await readPublicKey(key.path)).toBe(pair.publicKey);
    expect(readFileSync(key.path, "utf8")).not.toContain(pair.secretKey);
    // The watcher seeing our own write later must not announce it a second time.
    await store.reload();
    expect(changes).toHaveLength(1);
  });

  it("refuses a taken name unless forced; force replaces and announces both sides", async () => {
    const store = await openStore(await dirs.make());
    const { changes } = recorder(store);
    const first = await store.add("web01", generateKeyPair().publicKey);
    const second = generateKeyPair().publicKey;
    const error = (await caught(() => store.add("web01", second))) as KeyExistsError;
    expect(error).toBeInstanceOf(KeyExistsError);
    expect(error.keyName).toBe("web01");
    expect(error.path).toBe(first.path);
    expect(store.get("web01")?.publicKey).toBe(first.publicKey);

    const replaced = await store.add("web01", second, { force: true });
    expect(store.has(first.publicKey)).toBe(false);
    expect(store.has(second)).toBe(true);
    expect(changes.map((c) => [c.type, c.key.publicKey])).toEqual([
      ["added", first.publicKey],
      ["removed", first.publicKey],
      ["added", replaced.publicKey],
    ]);
  });

  it("refuses bad names and bad keys without touching the disk", async () => {
    const root = await dirs.make();
    const store = await openStore(root);
    const key = generateKeyPair().publicKey;
    for (const name of ["", ".x", "..", "a/b", "a b", "x".repeat(65), "ü"]) {
      await expect(store.add(name, key)).rejects.toBeInstanceOf(InvalidKeyNameError);
    }
    await expect(store.add("ok", "not-a-key")).rejects.toBeInstanceOf(Z85Error);
    await expect(store.revoke("../x")).rejects.toBeInstanceOf(InvalidKeyNameError);
    expect(readdirSync(join(root, "public_keys"))).toEqual([]);
  });

  it("revokes by moving the certificate to revoked/, never deleting it", async () => {
    const root = await dirs.make();
    const store = await openStore(root);
    const { changes } = recorder(store);
    const added = await store.add("web01", generateKeyPair().publicKey);
    const text = readFileSync(added.path, "utf8");

    const revoked = await store.revoke("web01");
    expect(revoked.name).toBe("web01");
    expect(revoked.publicKey).toBe(added.publicKey);
    expect(revoked.path).toMatch(/\/revoked\/web01\.\d{8}T\d{9}Z\.key$/);
    expect(readFileSync(revoked.path, "utf8")).toBe(text);
    expect(existsSync(added.path)).toBe(false);
    expect(store.has(added.publicKey)).toBe(false);
    expect(store.list()).toEqual([]);
    expect(store.listRevoked()).toEqual([revoked]);
    expect(changes.at(-1)).toEqual({ type: "removed", key: added });

    const error = (await caught(() => store.revoke("web01"))) as KeyNotFoundError;
    expect(error).toBeInstanceOf(KeyNotFoundError);
    expect(error.keyName).toBe("web01");

    // A revoked key stays revoked: not under a new name, not as a second revocation.
    const again = (await caught(() => store.add("web02", added.publicKey))) as KeyRevokedError;
    expect(again).toBeInstanceOf(KeyRevokedError);
    expect(again.path).toBe(revoked.path);
    await store.add("web01", generateKeyPair().publicKey);
    const second = await store.revoke("web01");
    expect(second.path).not.toBe(revoked.path);
    expect(readdirSync(join(root, "revoked"))).toHaveLength(2);
  });

  it("denies a revoked key copied back into public_keys/ and reports it", async () => {
    const root = await dirs.make();
    const problems: KeyError[] = [];
    const store = await openStore(root, { onError: (e) => problems.push(e) });
    const key = await store.add("web01", generateKeyPair().publicKey);
    const revoked = await store.revoke("web01");
    await otherProcess(`cp "${revoked.path}" public_keys/restored.key`, root);
    await store.reload();
    expect(store.has(key.publicKey)).toBe(false);
    expect(store.list()).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(KeyRevokedError);
    expect(store.problems()).toEqual(problems);
  });

  it("skips a malformed certificate, reports it once with its path, and picks it up once fixed", async () => {
    const root = await dirs.make();
    const problems: KeyError[] = [];
    const store = await openStore(root, { onError: (e) => problems.push(e) });
    const { next } = recorder(store);
    const bad = join(root, "public_keys", "broken.key");
    writeFileSync(bad, 'curve\n    public-key = "tooshort"\n');
    await store.reload();
    await store.reload();
    expect(store.list()).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(KeyFileError);
    expect((problems[0] as KeyFileError).path).toBe(bad);
    expect((problems[0] as KeyFileError).line).toBe(2);

    const fixed = generateKeyPair().publicKey;
    const added = next((c) => c.type === "added" && c.key.publicKey === fixed);
    await otherProcess(
      `printf 'curve\\n    public-key = "%s"\\n' '${fixed}' > public_keys/broken.key`,
      root,
    );
    await added;
    expect(store.get("broken")?.publicKey).toBe(fixed);
    expect(store.problems()).toEqual([]);
  });

  it("never takes a key file rewritten in place (in two steps) for a removed key", async () => {
    const root = await dirs.make();
    const problems: KeyError[] = [];
    const store = await openStore(root, { onError: (e) => problems.push(e) });
    const { changes } = recorder(store);
    const key = await store.add("web01", generateKeyPair().publicKey);
    const text = readFileSync(key.path, "utf8");
    // What cp or a shell redirect leaves for a moment: the file truncated and half written.
    writeFileSync(key.path, text.slice(0, text.indexOf("public-key")));
    await store.reload();
    expect(store.has(key.publicKey)).toBe(true);
    writeFileSync(key.path, text);
    await store.reload();
    expect(store.has(key.publicKey)).toBe(true);
    expect(changes.filter((c) => c.type === "removed")).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("removes a key whose file stays malformed past the settle time, and reports it", async () => {
    const root = await dirs.make();
    const problems: KeyError[] = [];
    const store = await openStore(root, { onError: (e) => problems.push(e) });
    const { next } = recorder(store);
    const key = await store.add("web01", generateKeyPair().publicKey);
    const removed = next((c) => c.type === "removed" && c.key.name === "web01", 10_000);
    const t0 = Date.now();
    writeFileSync(key.path, "curve\n");
    await store.reload();
    expect(store.has(key.publicKey)).toBe(true); // held while it may still be being written
    await removed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(KEY_FILE_SETTLE_MS - 50);
    expect(store.has(key.publicKey)).toBe(false);
    expect(problems.map((p) => (p as KeyFileError).path)).toEqual([key.path]);
  });

  it("spaces out costly periodic full rescans by their cost (at most 0.1 % of a core)", () => {
    expect(fullScanInterval(60_000, 5)).toBe(60_000); // a small store: the configured interval
    expect(fullScanInterval(200, 49)).toBe(200);
    expect(fullScanInterval(60_000, 320)).toBe(320_000); // 18,000 keys: ~5 min
    expect(fullScanInterval(600_000, 320)).toBe(600_000);
  });

  it("tells transient read failures (descriptors, memory, I/O) from what a file holds", () => {
    for (const code of ["EMFILE", "ENFILE", "ENOMEM", "EIO", "EAGAIN"]) {
      expect(isTransientReadError(new KeyFileError("/k", "cannot open", { code }))).toBe(true);
    }
    for (const code of ["ENOENT", "EACCES", "ELOOP", undefined]) {
      const options = code === undefined ? {} : { code };
      expect(isTransientReadError(new KeyFileError("/k", "bad", options))).toBe(false);
    }
  });

  describe.each([
    ["fs.watch", { pollIntervalMs: 0 }],
    ["polling only", { fsWatch: false, pollIntervalMs: 250 }],
  ] as const)("sees other processes' changes within 2 s (%s)", (_label, options) => {
    it("cp, mv and rm in public_keys/, mv into revoked/", async () => {
      const root = await dirs.make();
      const outside = await dirs.make();
      const store = await openStore(root, options);
      const { next } = recorder(store);
      const elapsed: number[] = [];

      // cp writes in place (not atomic): a half-written file must not be announced wrong.
      const a = await looseCertificate(outside, "a.key");
      let change = next((c) => c.type === "added" && c.key.name === "a");
      await otherProcess(`cp "${outside}/a.key" public_keys/a.key`, root);
      elapsed.push(await change);
      expect(store.has(a)).toBe(true);

      const b = await looseCertificate(outside, "b.key");
      change = next((c) => c.type === "added" && c.key.name === "b");
      await otherProcess(`mv "${outside}/b.key" public_keys/b.key`, root);
      elapsed.push(await change);
      expect(store.findByPublicKey(b)?.name).toBe("b");

      change = next((c) => c.type === "removed" && c.key.name === "a");
      await otherProcess("rm public_keys/a.key", root);
      elapsed.push(await change);
      expect(store.has(a)).toBe(false);

      change = next((c) => c.type === "removed" && c.key.name === "b");
      await otherProcess("mv public_keys/b.key revoked/b.manual.key", root);
      elapsed.push(await change);
      expect(store.has(b)).toBe(false);
      expect(store.listRevoked().map((k) => k.publicKey)).toEqual([b]);

      for (const ms of elapsed) expect(ms).toBeLessThan(2000);
    });
  });

  it("hears keys added by another store on the same directory", async () => {
    const root = await dirs.make();
    const watcher = await openStore(root);
    const writer = await openStore(root, { pollIntervalMs: 0, fsWatch: false });
    const { next } = recorder(watcher);
    const key = generateKeyPair().publicKey;
    const added = next((c) => c.type === "added" && c.key.publicKey === key);
    await writer.add("c1", key);
    await added;
    const removed = next((c) => c.type === "removed" && c.key.publicKey === key);
    await writer.revoke("c1");
    await removed;
  });

  it("recovers when public_keys/ is removed and made again", async () => {
    const root = await dirs.make();
    const outside = await dirs.make();
    const store = await openStore(root, { pollIntervalMs: 200 });
    const { next } = recorder(store);
    await store.add("old", generateKeyPair().publicKey);
    let change = next((c) => c.type === "removed" && c.key.name === "old");
    await otherProcess("rm -r public_keys", root);
    await change;
    await store.reload();
    expect(store.problems().map((p) => (p as KeyFileError).code)).toEqual(["ENOENT"]);

    const key = await looseCertificate(outside, "new.key");
    change = next((c) => c.type === "added" && c.key.name === "new");
    await otherProcess(`mkdir public_keys && mv "${outside}/new.key" public_keys/`, root);
    await change;
    expect(store.has(key)).toBe(true);
  });

  it("keeps going when a listener throws and stops calling unsubscribed listeners", async () => {
    const errors: KeyError[] = [];
    const store = await openStore(await dirs.make(), { onError: (e) => errors.push(e) });
    const heard: string[] = [];
    store.watch(() => {
      throw new Error("listener bug");
    });
    const stop = store.watch((c) => heard.push(c.key.name));
    await store.add("one", generateKeyPair().publicKey);
    stop();
    await store.add("two", generateKeyPair().publicKey);
    expect(heard).toEqual(["one"]);
    expect(errors).toHaveLength(2);
    expect(errors[0]?.message).toContain("listener");
    expect((errors[0]?.cause as Error).message).toBe("listener bug");
    expect(store.list().map((k) => k.name)).toEqual(["one", "two"]);
  });

  it("closes idempotently, keeps answering reads, refuses writes", async () => {
    const store = await KeyStore.open(await dirs.make());
    const key = await store.add("one", generateKeyPair().publicKey);
    await store.close();
    await store.close();
    expect(store.has(key.publicKey)).toBe(true);
    await expect(store.add("two", generateKeyPair().publicKey)).rejects.toThrow(/closed/);
    await expect(store.revoke("one")).rejects.toThrow(/closed/);
  });

  it("validates its options by name", async () => {
    const root = await dirs.make();
    await expect(KeyStore.open(root, { pollIntervalMs: -1 })).rejects.toThrow(/pollIntervalMs/);
    await expect(KeyStore.open(root, { debounceMs: Number.NaN })).rejects.toThrow(/debounceMs/);
  });

  it("reads the server key pair", async () => {
    const root = await dirs.make();
    const { keyPair } = await createServerKeyPair(root);
    const store = await openStore(root);
    expect(await store.readServerKeyPair()).toEqual(keyPair);
  });
});
