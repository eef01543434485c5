import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, writeCertificate, type KeyPair } from "@osad2/keys";
import { silentLogger } from "@osad2/service-kit";
import { createProxy, type Proxy, type ProxyOptions } from "../src/index.js";

/** Writes a proxy's certificates directory: its pair and the parent's public key. */
export async function writeProxyCerts(
  dir: string,
  keyPair: KeyPair,
  upstreamPublicKey: string,
): Promise<void> {
  await mkdir(join(dir, "private_keys"), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, "public_keys"), { recursive: true, mode: 0o755 });
  await writeCertificate(join(dir, "private_keys", "proxy.key_secret"), keyPair);
  await writeCertificate(join(dir, "public_keys", "proxy.key"), { publicKey: keyPair.publicKey });
  await writeCertificate(join(dir, "public_keys", "upstream.key"), {
    publicKey: upstreamPublicKey,
  });
}

/** A started in-process proxy on ephemeral ports, upstream at 127.0.0.1:`upstreamPort`. */
export async function startProxy(
  upstreamPort: number,
  upstreamPublicKey: string,
  overrides: Partial<ProxyOptions> = {},
  keyPair: KeyPair = generateKeyPair(),
): Promise<{ proxy: Proxy; keyPair: KeyPair; listener: string; proxyEndpoint: string }> {
  const proxy = createProxy({
    name: "px1",
    upstream: [{ host: "127.0.0.1", port: upstreamPort }],
    bind: "127.0.0.1",
    listenerPort: 0,
    proxyPort: 0,
    keys: { keyPair, upstreamPublicKey },
    logger: silentLogger(),
    ...overrides,
  });
  const endpoints = await proxy.start();
  return { proxy, keyPair, listener: endpoints.listener, proxyEndpoint: endpoints.proxy ?? "" };
}
