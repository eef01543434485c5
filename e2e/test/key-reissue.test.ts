// Re-issuing a system's key with the real osad2-server and osad2-client processes and the real
// packager CLI: the running client keeps its push channel until the new key first connects (then
// the old key goes to revoked/ and its connection is cut), or until the overlap runs out with
// nobody connecting.
import { mkdtemp, readdir } from "node:fs/promises";
import { join } from "node:path";
import * as zmq from "zeromq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyStore, readKeyPair, readPublicKey, type KeyPair } from "@osad2/keys";
import { CLIENT_PATHS, listKeys } from "@osad2/packager";
import { waitFor } from "@osad2/test-helpers";
import { cliPath, Deployment, run } from "@osad2/testkit";

const AUTH_FAILURE = /authentication failure with tcp:\/\/127\.0\.0\.1/;
const KEY_REMOVED = /client key removed from the allow-list/;

let d: Deployment;
beforeAll(async () => {
  d = await Deployment.launch({ database: "sqlite", pingInterval: 0.5 }, ["web01", "db01"]);
}, 120_000);
afterAll(async () => {
  await d?.dispose();
});

/** `osad2-packager createclient --name NAME --keys-only --force …`; returns the new key pair from its RPM. */
async function reissue(
  name: string,
  ...flags: string[]
): Promise<{ pair: KeyPair; stdout: string }> {
  const out = await mkdtemp(join(d.dir, `rpms-${name}-`));
  const result = await run(process.execPath, [
    cliPath("packager"),
    "createclient",
    "--name",
    name,
    "--keys-only",
    "--force",
    "--release",
    "2",
    "--certificates",
    d.certificates,
    "--out",
    out,
    "--server-host",
    "127.0.0.1",
    ...flags,
  ]);
  if (result.code !== 0) throw new Error(`createclient failed: ${result.stderr}`);
  const rpm = join(out, `osad2-client-${name}-0.1.0-2.noarch.rpm`);
  const root = join(out, "root");
  const unpack = await run("/bin/sh", [
    "-c",
    'mkdir -p "$2" && cd "$2" && rpm2cpio "$1" | cpio -idm --quiet',
    "sh",
    rpm,
    root,
  ]);
  if (unpack.code !== 0) throw new Error(`rpm2cpio failed: ${unpack.stderr}`);
  return { pair: await readKeyPair(join(root, CLIENT_PATHS.secretKey)), stdout: result.stdout };
}

const filesIn = async (dir: string, name: string): Promise<string[]> =>
  (await readdir(join(d.certificates, dir))).filter((f) => f.startsWith(`${name}.`));

describe("re-issuing a key to a running system", () => {
  it("keeps the old client connected until the new key connects, then revokes the old key and cuts it", async () => {
    const web01 = d.clients.get("web01");
    const server = d.server;
    if (!web01 || !server) throw new Error("deployment not running");
    const oldKey = await readPublicKey(join(d.certificates, "public_keys", "web01.key"));
    const { pair, stdout } = await reissue("web01");
    expect(stdout).toMatch(/old key kept allowed as .*retiring\/web01\./);

    // The old client carries on: pings keep arriving, no reconnect wave, no auth failure.
    await d.pingRounds("web01", 3);
    expect(web01.matching(AUTH_FAILURE)).toEqual([]);
    expect(server.matching(KEY_REMOVED)).toEqual([]);
    expect((await d.pushClient("web01"))?.state).toBe("online");
    expect(await filesIn("retiring", "web01")).toHaveLength(1);

    // The new key's first handshake (a raw CURVE client with the RPM's key pair).
    const dealer = new zmq.Dealer({
      linger: 0,
      curveServerKey: await readPublicKey(join(d.certificates, "public_keys", "server.key")),
      curvePublicKey: pair.publicKey,
      curveSecretKey: pair.secretKey,
    });
    try {
      const handshake = (async () => {
        for await (const event of dealer.events) {
          if (event.type === "handshake" || event.type.startsWith("handshake:error"))
            return event.type;
        }
        return "closed";
      })();
      dealer.connect(`tcp://127.0.0.1:${d.ports.listener}`);
      expect(await handshake).toBe("handshake");

      // The old key moves to revoked/ and its connection is cut.
      await web01.waitForLine(AUTH_FAILURE);
      expect(await filesIn("retiring", "web01")).toEqual([]);
      const revoked = await filesIn("revoked", "web01");
      expect(revoked).toHaveLength(1);
      expect(await readPublicKey(join(d.certificates, "revoked", revoked[0] ?? ""))).toBe(oldKey);
      expect(server.matching(KEY_REMOVED)).toHaveLength(1);
    } finally {
      dealer.close();
    }
    const list = await listKeys({
      certificates: d.certificates,
      stateDir: join(d.dir, "server", "state"),
    });
    expect(list.keys.filter((k) => k.name === "web01").map((k) => k.state)).toEqual([
      "allowed",
      "revoked",
    ]);
  });

  it("revokes the old key when the overlap runs out, with nobody connecting, and cuts it", async () => {
    const db01 = d.clients.get("db01");
    if (!db01) throw new Error("deployment not running");
    const oldKey = await readPublicKey(join(d.certificates, "public_keys", "db01.key"));
    await reissue("db01", "--overlap", "2s");
    const keys = await KeyStore.open(d.certificates, { pollIntervalMs: 0, fsWatch: false });
    const deadline = keys.listRetiring().find((k) => k.publicKey === oldKey)?.deadline;
    await keys.close();
    expect(deadline).toBeDefined();

    await db01.waitForLine(AUTH_FAILURE);
    // Cut at the deadline, not before.
    expect(Date.now()).toBeGreaterThanOrEqual(deadline?.getTime() ?? Infinity);
    await waitFor(
      "db01's old key in revoked/",
      async () => (await filesIn("revoked", "db01")).length === 1,
    );
    expect(await filesIn("retiring", "db01")).toEqual([]);
    expect(
      await readPublicKey(
        join(d.certificates, "revoked", (await filesIn("revoked", "db01"))[0] ?? ""),
      ),
    ).toBe(oldKey);
  });
});
