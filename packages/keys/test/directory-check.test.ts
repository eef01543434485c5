import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { caught, TempDirs } from "@osad2/test-helpers";
import {
  KeyDirectoryPermissionError,
  KeyStore,
  assertKeyDirectory,
  createServerKeyPair,
} from "../src/index.js";

const dirs = new TempDirs("osad2-keys-dirs-");
afterEach(() => dirs.removeAll());

async function refusal(run: () => Promise<unknown>): Promise<KeyDirectoryPermissionError> {
  const error = await caught(run);
  expect(error).toBeInstanceOf(KeyDirectoryPermissionError);
  return error as KeyDirectoryPermissionError;
}

describe("key directory permissions", () => {
  it.each(["public_keys", "revoked", "."])(
    "KeyStore.open refuses a world-writable %s with the chmod that fixes it",
    async (sub) => {
      const root = await dirs.make();
      await mkdir(join(root, "public_keys"), { recursive: true });
      await mkdir(join(root, "revoked"), { recursive: true });
      const dir = join(root, sub);
      await chmod(dir, 0o777);
      const error = await refusal(() => KeyStore.open(root, { pollIntervalMs: 0 }));
      expect(error.mode).toBe(0o777);
      expect(error.message).toContain(`chmod go-w ${error.path}`);
      await chmod(dir, 0o755);
    },
  );

  it("KeyStore.open refuses a group-writable public_keys/", async () => {
    const root = await dirs.make();
    await mkdir(join(root, "public_keys"));
    await chmod(join(root, "public_keys"), 0o775);
    const error = await refusal(() => KeyStore.open(root, { pollIntervalMs: 0 }));
    expect(error.path).toBe(join(root, "public_keys"));
  });

  it("creates its directories 0755 under umask 000 and opens them", async () => {
    const root = join(await dirs.make(), "certs");
    const old = process.umask(0o000);
    let store: KeyStore;
    try {
      store = await KeyStore.open(root, { pollIntervalMs: 0 });
    } finally {
      process.umask(old);
    }
    await store.close();
  });

  it("readServerKeyPair refuses a world-writable private_keys/", async () => {
    const root = await dirs.make();
    await createServerKeyPair(root);
    await chmod(join(root, "private_keys"), 0o777);
    const store = await KeyStore.open(root, { pollIntervalMs: 0 });
    try {
      const error = await refusal(() => store.readServerKeyPair());
      expect(error.path).toBe(join(root, "private_keys"));
    } finally {
      await store.close();
    }
  });

  it("assertKeyDirectory accepts 0755 and 0700", async () => {
    const dir = await dirs.make();
    for (const mode of [0o755, 0o700]) {
      await chmod(dir, mode);
      await expect(assertKeyDirectory(dir, "keys")).resolves.toBeUndefined();
    }
  });
});
