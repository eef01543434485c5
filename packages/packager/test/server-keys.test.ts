import {
  KeyPermissionError,
  KeyStore,
  readKeyPair,
  readPublicKey,
  writeCertificate,
  generateKeyPair,
} from "@osad2/keys";
import { parse as parseIni } from "ini";
import { chmod, chown, readFile, stat, unlink, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigFileError, ServerKeyExistsError, createServerKeys } from "../src/index.js";
import {
  NOBODY,
  TempDirs,
  isRoot,
  listTree,
  runPackager,
  runPackagerUnprivileged,
} from "./helpers.js";

const temps = new TempDirs();
afterEach(() => temps.removeAll());

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe("createServerKeys", () => {
  it("run as root, gives the new pair to the owner of private_keys/ (the server RPM's osad2 user), who must read it", async () => {
    if (!isRoot) throw new Error("needs root: only root can hand files to another user");
    const certificates = join(await temps.make(), "certs");
    // As the server RPM lays it out: private_keys/ 0700, owned by the service user.
    await mkdir(join(certificates, "private_keys"), { recursive: true, mode: 0o700 });
    await chown(certificates, NOBODY.uid, NOBODY.gid);
    await chown(join(certificates, "private_keys"), NOBODY.uid, NOBODY.gid);
    const result = await createServerKeys({ certificates, config: false });
    for (const path of [result.secretKeyPath, result.publicKeyPath]) {
      const info = await stat(path);
      expect([info.uid, info.gid], path).toEqual([NOBODY.uid, NOBODY.gid]);
    }
    expect(await mode(result.secretKeyPath)).toBe(0o600);
    // And in a root-owned layout (an npm install) the files stay root's.
    const plain = await createServerKeys({
      certificates: join(await temps.make(), "certs"),
      config: false,
    });
    expect((await stat(plain.secretKeyPath)).uid).toBe(0);
  });

  it("creates the key pair with the right modes and a default config naming the certificates", async () => {
    const dir = await temps.make();
    const certificates = join(dir, "certs");
    const config = join(dir, "etc", "osad2-server", "osad_server.cfg");
    const result = await createServerKeys({ certificates, config });

    expect(result.created).toBe(true);
    expect(result.configWritten).toBe(true);
    expect(result.secretKeyPath).toBe(join(certificates, "private_keys", "server.key_secret"));
    expect(result.publicKeyPath).toBe(join(certificates, "public_keys", "server.key"));
    const pair = await readKeyPair(result.secretKeyPath);
    expect(pair.publicKey).toBe(result.publicKey);
    expect(await readPublicKey(result.publicKeyPath)).toBe(result.publicKey);
    expect(await mode(result.secretKeyPath)).toBe(0o600);
    expect(await mode(join(certificates, "private_keys"))).toBe(0o700);
    expect(await mode(config)).toBe(0o644);

    const text = await readFile(config, "utf8");
    const ini = parseIni(text) as { main: Record<string, string> };
    // Only certificates is set; every other key is a commented default the server applies itself.
    expect(ini.main).toEqual({ certificates });
    for (const key of [
      "bind",
      "publisher_port",
      "listener_port",
      "ping_interval",
      "action_poll_interval",
      "checkin_count",
      "log_file",
      "debug",
      "pidfile",
      "database",
      "database_schema",
      "xmlrpc_port",
      "xmlrpc_bind",
      "public_host",
      "tls_cert",
      "tls_key",
      "renotify_interval",
      "renotify_picked_up",
      "missed_pings",
      "metrics_port",
      "metrics_bind",
      "proxy_port",
    ]) {
      expect(text).toMatch(new RegExp(`^;${key} =`, "m"));
    }
    expect(text).toContain(";publisher_port = 5555");
    expect(text).toContain(";database = sqlite:/var/lib/osad2/osad2.db");
  });

  it("is idempotent: a second run keeps the key pair and the config", async () => {
    const dir = await temps.make();
    const opts = { certificates: join(dir, "certs"), config: join(dir, "server.cfg") };
    const first = await createServerKeys(opts);
    await writeFile(opts.config, "[main]\n# edited by the admin\n");
    const before = await listTree(dir);
    const second = await createServerKeys(opts);
    expect(second).toMatchObject({
      created: false,
      configWritten: false,
      publicKey: first.publicKey,
    });
    expect(await listTree(dir)).toEqual(before);
    expect(await readFile(opts.config, "utf8")).toBe("[main]\n# edited by the admin\n");
  });

  it("with force replaces the pair and keeps the old one as a backup", async () => {
    const dir = await temps.make();
    const certificates = join(dir, "certs");
    const first = await createServerKeys({ certificates, config: false });
    const second = await createServerKeys({ certificates, config: false, force: true });
    expect(second.created).toBe(true);
    expect(second.publicKey).not.toBe(first.publicKey);
    expect(second.backupPath).toMatch(/server\.key_secret\..+\.bak$/);
    expect((await readKeyPair(second.backupPath ?? "")).publicKey).toBe(first.publicKey);
    expect(second.configPath).toBeUndefined();
  });

  it("refuses a half-present or mismatched pair without force, writing nothing", async () => {
    const dir = await temps.make();
    const certificates = join(dir, "certs");
    const made = await createServerKeys({ certificates, config: false });
    await unlink(made.publicKeyPath);
    let before = await listTree(dir);
    await expect(createServerKeys({ certificates, config: join(dir, "s.cfg") })).rejects.toThrow(
      ServerKeyExistsError,
    );
    expect(await listTree(dir)).toEqual(before);

    await writeCertificate(made.publicKeyPath, { publicKey: generateKeyPair().publicKey });
    before = await listTree(dir);
    const error = await createServerKeys({ certificates, config: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerKeyExistsError);
    expect((error as Error).message).toContain("does not hold the public key");
    expect((error as Error).message).toContain("--force");
    expect(await listTree(dir)).toEqual(before);
  });

  it("passes on the keys library's permission error for a loose secret key", async () => {
    const dir = await temps.make();
    const made = await createServerKeys({ certificates: join(dir, "certs"), config: false });
    await chmod(made.secretKeyPath, 0o644);
    const error = await createServerKeys({ certificates: join(dir, "certs"), config: false }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyPermissionError);
    expect((error as Error).message).toContain("chmod 600");
  });

  it("refuses an unusable config location before writing any key", async () => {
    const dir = await temps.make();
    await writeFile(join(dir, "file"), "x");
    const before = await listTree(dir);
    const error = await createServerKeys({
      certificates: join(dir, "certs"),
      config: join(dir, "file", "s.cfg"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).path).toBe(join(dir, "file", "s.cfg"));
    expect(await listTree(dir)).toEqual(before);

    await mkdir(join(dir, "cfgdir"));
    await expect(
      createServerKeys({ certificates: join(dir, "certs"), config: join(dir, "cfgdir") }),
    ).rejects.toThrow(/not a regular file/);
  });

  it("leaves a KeyStore that allows nobody but the server (no client keys yet)", async () => {
    const dir = await temps.make();
    const made = await createServerKeys({ certificates: join(dir, "certs"), config: false });
    const store = await KeyStore.open(join(dir, "certs"), { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(store.list().map((k) => k.name)).toEqual(["server"]);
      expect(store.has(made.publicKey)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe("osad2-packager createserver (CLI)", () => {
  it("creates, then reports the existing pair, exit 0 both times", async () => {
    const dir = await temps.make();
    const args = [
      "createserver",
      "--certificates",
      join(dir, "certs"),
      "--config",
      join(dir, "osad_server.cfg"),
    ];
    const first = await runPackager(args);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("server key pair created");
    expect(first.stdout).toContain(`server config written: ${join(dir, "osad_server.cfg")}`);
    const publicKey = await readPublicKey(join(dir, "certs", "public_keys", "server.key"));
    expect(first.stdout).toContain(`server public key: ${publicKey}`);

    const second = await runPackager(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("already exists, kept");
    expect(second.stdout).toContain(`server public key: ${publicKey}`);
  });

  it("prints one line and exits 1 when the certificates directory cannot be written", async () => {
    const dir = await temps.make();
    await chmod(dir, 0o555); // the unprivileged runner may enter but not write
    const result = await runPackagerUnprivileged(
      ["createserver", "--certificates", join(dir, "certs"), "--no-config"],
      { ...process.env, HOME: dir },
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^osad2-packager: .*certs/);
    expect(await listTree(dir)).toEqual([]);
  });
});
