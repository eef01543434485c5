import { chmod, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { generateKeyPair, writeCertificate } from "@osad2/keys";
import { afterEach, describe, expect, it } from "vitest";
import { KeyConfigError, loadClientKeys } from "../src/index.js";
import { cleanupTempDirs, tempDir } from "./helpers.js";

afterEach(cleanupTempDirs);

async function files(): Promise<{ clientSecretKey: string; serverPublicKey: string }> {
  const dir = await tempDir();
  return {
    clientSecretKey: join(dir, "client.key_secret"),
    serverPublicKey: join(dir, "server.key"),
  };
}

async function keyError(paths: {
  clientSecretKey: string;
  serverPublicKey: string;
}): Promise<KeyConfigError> {
  const error = await loadClientKeys(paths).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyConfigError);
  expect((error as Error).message.split("\n")).toHaveLength(1);
  return error as KeyConfigError;
}

describe("loadClientKeys", () => {
  it("reads the client key pair and the server key written by @osad2/keys", async () => {
    const paths = await files();
    const client = generateKeyPair();
    const server = generateKeyPair();
    await writeCertificate(paths.clientSecretKey, client);
    await writeCertificate(paths.serverPublicKey, { publicKey: server.publicKey });
    expect(await loadClientKeys(paths)).toEqual({
      clientKeyPair: client,
      serverPublicKey: server.publicKey,
    });
  });

  it("treats a missing server key file as 'use the key from registration'", async () => {
    const paths = await files();
    await writeCertificate(paths.clientSecretKey, generateKeyPair());
    expect((await loadClientKeys(paths)).serverPublicKey).toBeUndefined();
  });

  it("refuses a missing secret key, naming the file and createclient", async () => {
    const paths = await files();
    const e = await keyError(paths);
    expect(e).toMatchObject({ reason: "missing", path: paths.clientSecretKey });
    expect(e.message).toContain(`client secret key ${paths.clientSecretKey} not found`);
    expect(e.message).toContain("createclient");
  });

  it("refuses a group/world-readable secret key and says chmod 600", async () => {
    const paths = await files();
    await writeCertificate(paths.clientSecretKey, generateKeyPair());
    await chmod(paths.clientSecretKey, 0o644);
    const e = await keyError(paths);
    expect(e.reason).toBe("permissions");
    expect(e.message).toContain(`chmod 600 ${paths.clientSecretKey}`);
  });

  it("refuses a group- or world-writable certs/ directory and says chmod go-w", async () => {
    const paths = await files();
    await writeCertificate(paths.clientSecretKey, generateKeyPair());
    const dir = dirname(paths.clientSecretKey);
    for (const mode of [0o777, 0o775]) {
      await chmod(dir, mode);
      const e = await keyError(paths);
      expect(e.reason).toBe("permissions");
      expect(e.message).toContain(`chmod go-w ${dir}`);
    }
    await chmod(dir, 0o755);
    expect((await loadClientKeys(paths)).clientKeyPair.publicKey).toBeDefined();
  });

  it("refuses a secret key file whose halves do not match (the seed's createclient defect)", async () => {
    const paths = await files();
    const a = generateKeyPair();
    const b = generateKeyPair();
    // written by hand, as the seed's createclient did (mismatched halves)
    await writeFile(
      paths.clientSecretKey,
      `metadata\ncurve\n    public-key = "${a.publicKey}"\n    secret-key = "${b.secretKey}"\n`,
      { mode: 0o600 },
    );
    const e = await keyError(paths);
    expect(e.reason).toBe("invalid");
    expect(e.message).toContain(paths.clientSecretKey);
    expect(e.message).toMatch(/createclient/);
  });

  it("refuses a server key that does not parse, naming it and the fix", async () => {
    const paths = await files();
    await writeCertificate(paths.clientSecretKey, generateKeyPair());
    await writeFile(paths.serverPublicKey, 'metadata\ncurve\n    public-key = "not a key"\n');
    const e = await keyError(paths);
    expect(e).toMatchObject({ reason: "invalid", path: paths.serverPublicKey });
    expect(e.message).toContain(paths.serverPublicKey);
    expect(e.message).toContain("copy the server's public_keys/server.key");
  });
});
