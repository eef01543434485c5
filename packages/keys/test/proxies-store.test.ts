import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  certificateLayout,
  formatCertificate,
  generateKeyPair,
  KeyStore,
  type KeyStoreChange,
} from "../src/index.js";
import { TempDirs, waitFor } from "@osad2/test-helpers";

const dirs = new TempDirs("osad2-keys-proxies-");
afterEach(() => dirs.removeAll());

// The proxies allow-list is the same KeyStore over proxies/: what a server admits on its proxy port.
describe("KeyStore over proxies/", () => {
  it("allows proxies/*.key only, apart from the clients' list, and revokes into revoked/", async () => {
    const root = join(await dirs.make(), "certs");
    const clients = await KeyStore.open(root, { pollIntervalMs: 0 });
    const proxies = await KeyStore.open(root, { allowList: "proxies", pollIntervalMs: 0 });
    try {
      const layout = certificateLayout(root);
      expect(existsSync(layout.proxiesDir)).toBe(true);
      expect(proxies.layout.publicKeysDir).toBe(layout.proxiesDir);
      const client = generateKeyPair();
      const proxy = generateKeyPair();
      await clients.add("web01", client.publicKey);
      await proxies.add("dmz", proxy.publicKey);
      expect(existsSync(join(layout.proxiesDir, "dmz.key"))).toBe(true);
      await clients.reload();
      await proxies.reload();
      expect(proxies.has(proxy.publicKey)).toBe(true);
      expect(proxies.has(client.publicKey)).toBe(false);
      expect(clients.has(proxy.publicKey)).toBe(false);
      expect(clients.has(client.publicKey)).toBe(true);

      const removed: KeyStoreChange[] = [];
      proxies.watch((c) => removed.push(c));
      const moved = await proxies.revoke("dmz");
      expect(moved.path.startsWith(layout.revokedDir)).toBe(true);
      expect(proxies.has(proxy.publicKey)).toBe(false);
      expect(removed.map((c) => [c.type, c.key.name])).toEqual([["removed", "dmz"]]);
      // Copied back by hand: still denied (revoked/ is shared).
      writeFileSync(
        join(layout.proxiesDir, "dmz.key"),
        formatCertificate({ publicKey: proxy.publicKey, metadata: {} }),
      );
      await proxies.reload();
      expect(proxies.has(proxy.publicKey)).toBe(false);
      expect(existsSync(join(layout.proxiesDir, "retiring"))).toBe(false);
    } finally {
      await clients.close();
      await proxies.close();
    }
  });

  it("follows a proxy key copied in by another process", async () => {
    const root = join(await dirs.make(), "certs");
    const proxies = await KeyStore.open(root, { allowList: "proxies", pollIntervalMs: 50 });
    try {
      const pair = generateKeyPair();
      mkdirSync(certificateLayout(root).proxiesDir, { recursive: true });
      writeFileSync(
        join(certificateLayout(root).proxiesDir, "branch7.key"),
        formatCertificate({ publicKey: pair.publicKey, metadata: {} }),
      );
      await waitFor("proxy key seen", () => proxies.has(pair.publicKey));
      expect(proxies.get("branch7")?.publicKey).toBe(pair.publicKey);
    } finally {
      await proxies.close();
    }
  });
});
