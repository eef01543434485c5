// Compatibility with the real pyzmq (Debian's python3-zmq, installed by tools/test): what
// pyzmq's zmq.auth.create_certificates writes, @osad2/keys reads; what @osad2/keys writes,
// pyzmq's load_certificate reads — the seed deployments' certificates keep working.
import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  generateKeyPair,
  publicKeyFromSecret,
  readKeyPair,
  readPublicKey,
  writeCertificatePair,
} from "../src/index.js";
import { TempDirs } from "@osad2/test-helpers";

const dirs = new TempDirs("osad2-keys-");
afterEach(() => dirs.removeAll());

// Debian's interpreter, where python3-zmq lives (a pyenv python3 earlier on PATH has no zmq).
const PYTHON = "/usr/bin/python3";

function python(script: string, ...args: string[]): string {
  return execFileSync(PYTHON, ["-c", script, ...args], { encoding: "utf8" }).trim();
}

describe("certificates and the real pyzmq", () => {
  it("reads the pair pyzmq's create_certificates writes (after chmod 600, which osad2 requires)", async () => {
    const dir = await dirs.make();
    const printed = python(
      `import sys, zmq.auth
pub, sec = zmq.auth.create_certificates(sys.argv[1], "seedclient", metadata={"system-id": "1000010000"})
p, s = zmq.auth.load_certificate(sec)
print(p.decode(), s.decode())`,
      dir,
    );
    const [publicKey, secretKey] = printed.split(" ");
    chmodSync(join(dir, "seedclient.key_secret"), 0o600);
    const pair = await readKeyPair(join(dir, "seedclient.key_secret"));
    expect(pair).toEqual({ publicKey, secretKey });
    expect(await readPublicKey(join(dir, "seedclient.key"))).toBe(publicKey);
  });

  it("pyzmq's load_certificate reads the pair osad2 writes, and agrees on the public key", async () => {
    const dir = await dirs.make();
    const pair = generateKeyPair();
    const { publicPath, secretPath } = await writeCertificatePair(dir, "osad2client", pair, {
      owner: "admin",
    });
    const printed = python(
      `import sys, zmq, zmq.auth
p, s = zmq.auth.load_certificate(sys.argv[1])
p2, none = zmq.auth.load_certificate(sys.argv[2])
print(p.decode(), s.decode(), p2.decode(), none, zmq.curve_public(s).decode())`,
      secretPath,
      publicPath,
    );
    expect(printed).toBe(
      `${pair.publicKey} ${pair.secretKey} ${pair.publicKey} None ${pair.publicKey}`,
    );
    expect(publicKeyFromSecret(pair.secretKey)).toBe(pair.publicKey);
  });
});
