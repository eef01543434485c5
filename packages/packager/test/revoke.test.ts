// revokeclient: the administrator's way to withdraw a system's key, through the built CLI.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createServerKeyPair, generateKeyPair, KeyStore } from "@osad2/keys";
import { runPackager, TempDirs } from "./helpers.js";

const dirs = new TempDirs();
afterEach(() => dirs.removeAll());

describe("osad2-packager revokeclient", () => {
  it("moves the client's key to revoked/ and the allow-list no longer has it", async () => {
    const certificates = await dirs.make();
    await createServerKeyPair(certificates);
    const pair = generateKeyPair();
    const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    await store.add("web01", pair.publicKey);
    await store.close();

    const result = await runPackager([
      "revokeclient",
      "--name",
      "web01",
      "--certificates",
      certificates,
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^client web01 revoked: its key is now .*revoked\/web01\..*\.key\n$/,
    );
    expect(existsSync(join(certificates, "public_keys", "web01.key"))).toBe(false);
    expect(
      readdirSync(join(certificates, "revoked")).filter((f) => f.startsWith("web01.")),
    ).toHaveLength(1);
    const after = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(after.has(pair.publicKey)).toBe(false);
    } finally {
      await after.close();
    }
  });

  it("refuses an unknown or invalid name with one line and changes nothing", async () => {
    const certificates = await dirs.make();
    await createServerKeyPair(certificates);
    const before = readdirSync(join(certificates, "public_keys"));
    // An unknown name fails (1); a name that cannot be a client's is a usage error (2).
    for (const [name, code] of [
      ["nobody", 1],
      ["../server", 2],
    ] as const) {
      const result = await runPackager([
        "revokeclient",
        "--name",
        name,
        "--certificates",
        certificates,
      ]);
      expect(result.code).toBe(code);
      expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(result.stderr).toMatch(/^osad2-packager: /);
    }
    expect(readdirSync(join(certificates, "public_keys"))).toEqual(before);
    expect(readdirSync(join(certificates, "revoked"))).toEqual([]);
  });

  it("refuses a certificates directory without a server key and creates nothing there", async () => {
    const wrong = await dirs.make();
    const result = await runPackager(["revokeclient", "--name", "web01", "--certificates", wrong]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^osad2-packager: server public key .*server\.key does not exist; run "osad2-packager createserver/,
    );
    expect(readdirSync(wrong)).toEqual([]);
  });
});
