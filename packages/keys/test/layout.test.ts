import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  certificateLayout,
  createServerKeyPair,
  KeyExistsError,
  KeyStore,
  publicKeyFromSecret,
  readKeyPair,
  readPublicKey,
  SERVER_CERT_NAME,
} from "../src/index.js";
import { caught, TempDirs } from "@osad2/test-helpers";

const dirs = new TempDirs("osad2-keys-");
afterEach(() => dirs.removeAll());

describe("certificate layout", () => {
  it("names the seed's paths plus revoked/ and retiring/", () => {
    expect(certificateLayout("/etc/rhn/osad2-server/certs")).toEqual({
      root: "/etc/rhn/osad2-server/certs",
      privateKeysDir: "/etc/rhn/osad2-server/certs/private_keys",
      publicKeysDir: "/etc/rhn/osad2-server/certs/public_keys",
      revokedDir: "/etc/rhn/osad2-server/certs/revoked",
      retiringDir: "/etc/rhn/osad2-server/certs/retiring",
      proxiesDir: "/etc/rhn/osad2-server/certs/proxies",
      serverSecretPath: "/etc/rhn/osad2-server/certs/private_keys/server.key_secret",
      serverPublicPath: "/etc/rhn/osad2-server/certs/public_keys/server.key",
    });
    expect(SERVER_CERT_NAME).toBe("server");
    expect(certificateLayout("rel/certs").root).toBe(join(process.cwd(), "rel/certs"));
  });
});

describe("createServerKeyPair", () => {
  it("creates the directories and a matching pair with the right modes", async () => {
    const root = join(await dirs.make(), "certs");
    const layout = certificateLayout(root);
    const { keyPair, backupPath } = await createServerKeyPair(root);
    expect(backupPath).toBeUndefined();
    expect(publicKeyFromSecret(keyPair.secretKey)).toBe(keyPair.publicKey);
    expect(await readKeyPair(layout.serverSecretPath)).toEqual(keyPair);
    expect(await readPublicKey(layout.serverPublicPath)).toBe(keyPair.publicKey);
    expect(readFileSync(layout.serverPublicPath, "utf8")).not.toContain(keyPair.secretKey);

    const mode = (path: string): number => statSync(path).mode & 0o777;
    expect(mode(layout.privateKeysDir)).toBe(0o700);
    expect(mode(layout.publicKeysDir)).toBe(0o755);
    expect(mode(layout.revokedDir)).toBe(0o755);
    expect(mode(layout.retiringDir)).toBe(0o755);
    expect(mode(layout.serverSecretPath)).toBe(0o600);
    expect(mode(layout.serverPublicPath)).toBe(0o644);
  });

  it("refuses to replace an existing pair without force and changes nothing", async () => {
    const root = await dirs.make();
    const layout = certificateLayout(root);
    const first = await createServerKeyPair(root);
    const error = (await caught(() => createServerKeyPair(root))) as KeyExistsError;
    expect(error).toBeInstanceOf(KeyExistsError);
    expect(error.keyName).toBe("server");
    expect(error.path).toBe(layout.serverSecretPath);
    expect(error.message).toContain("force");
    expect(await readKeyPair(layout.serverSecretPath)).toEqual(first.keyPair);
    expect(readdirSync(layout.privateKeysDir)).toEqual(["server.key_secret"]);
  });

  it("also refuses when only the public half exists", async () => {
    const root = await dirs.make();
    const layout = certificateLayout(root);
    await createServerKeyPair(root);
    const { rmSync } = await import("node:fs");
    rmSync(layout.serverSecretPath);
    const error = (await caught(() => createServerKeyPair(root))) as KeyExistsError;
    expect(error.path).toBe(layout.serverPublicPath);
  });

  it("with force keeps the old files as dated backups the key store ignores", async () => {
    const root = await dirs.make();
    const layout = certificateLayout(root);
    const old = await createServerKeyPair(root);
    const oldSecretText = readFileSync(layout.serverSecretPath, "utf8");
    const renewed = await createServerKeyPair(root, { force: true });

    expect(renewed.keyPair.publicKey).not.toBe(old.keyPair.publicKey);
    expect(await readKeyPair(layout.serverSecretPath)).toEqual(renewed.keyPair);
    expect(renewed.backupPath).toMatch(
      new RegExp(`^${layout.serverSecretPath.replace(/[.]/g, "\\.")}\\.\\d{8}T\\d{9}Z\\.bak$`),
    );
    const backupPath = renewed.backupPath ?? "";
    expect(readFileSync(backupPath, "utf8")).toBe(oldSecretText);
    expect(statSync(backupPath).mode & 0o777).toBe(0o600);
    expect(renewed.publicBackupPath).toMatch(/public_keys\/server\.key\.\d{8}T\d{9}Z\.bak$/);
    expect(await readPublicKey(renewed.publicBackupPath ?? "")).toBe(old.keyPair.publicKey);

    const store = await KeyStore.open(root, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(store.list().map((k) => k.publicKey)).toEqual([renewed.keyPair.publicKey]);
      expect(store.problems()).toEqual([]);
      expect(await store.readServerKeyPair()).toEqual(renewed.keyPair);
    } finally {
      await store.close();
    }

    // A second forced renewal in the same millisecond must not overwrite the first backup.
    const third = await createServerKeyPair(root, { force: true });
    expect(third.backupPath).not.toBe(renewed.backupPath);
    expect(readdirSync(layout.privateKeysDir)).toHaveLength(3);
  });
});
