// An osad2 proxy's installation on a test host, as `osad2-packager createproxy` lays it out
// (packages/proxy's README): its own key pair, the parent's public key as upstream.key, an
// `[osad2-proxy]` config, and its public key admitted in the server's proxies/ allow-list.
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  certificateLayout,
  generateKeyPair,
  KeyStore,
  readPublicKey,
  writeCertificate,
} from "@osad2/keys";
import { iniSection } from "@osad2/testkit";

/** The workspace's built osad2-proxy CLI (packages/proxy/dist/cli.js), as e2e runs every CLI. */
export const PROXY_CLI = fileURLToPath(
  new URL("../../../packages/proxy/dist/cli.js", import.meta.url),
);

/** The proxy's log line once it holds a link session with a parent. */
export const PROXY_LINKED = /"msg":"linked"/;

export interface ProxyInstallOptions {
  /** The proxy's name (its key is proxies/NAME.key on the server; `systems` shows it as VIA). */
  readonly name: string;
  /** Where its certificates and config go. */
  readonly dir: string;
  /** The server's certificates directory: public_keys/server.key is the parent's key, proxies/ admits this one. */
  readonly serverCertificates: string;
  /** Parents as `host:port` (servers' proxy_port); several = a failover set. */
  readonly upstream: readonly string[];
  /** Where its clients connect. */
  readonly listenerPort: number;
}

export interface ProxyInstallation {
  readonly name: string;
  readonly configPath: string;
  readonly certificates: string;
  /** public_keys/proxy.key: a client behind this proxy has it as its server_public_key. */
  readonly publicKeyPath: string;
}

/** Writes the proxy's keys and config and admits its key at the server. */
export async function installProxy(options: ProxyInstallOptions): Promise<ProxyInstallation> {
  const certificates = path.join(options.dir, "certs");
  const privateDir = path.join(certificates, "private_keys");
  const publicDir = path.join(certificates, "public_keys");
  await fs.mkdir(privateDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(publicDir, { recursive: true });
  const keyPair = generateKeyPair();
  await writeCertificate(path.join(privateDir, "proxy.key_secret"), keyPair);
  const publicKeyPath = path.join(publicDir, "proxy.key");
  await writeCertificate(publicKeyPath, { publicKey: keyPair.publicKey });
  const serverPublic = await readPublicKey(
    certificateLayout(options.serverCertificates).serverPublicPath,
  );
  await writeCertificate(path.join(publicDir, "upstream.key"), { publicKey: serverPublic });
  const proxies = await KeyStore.open(options.serverCertificates, { allowList: "proxies" });
  try {
    await proxies.add(options.name, keyPair.publicKey);
  } finally {
    await proxies.close();
  }
  const configPath = path.join(options.dir, "osad2-proxy.conf");
  await fs.writeFile(
    configPath,
    iniSection("osad2-proxy", {
      name: options.name,
      upstream: options.upstream.join(","),
      bind: "*",
      listener_port: options.listenerPort,
      // No child proxies here: both proxies sit right under the servers.
      proxy_port: "off",
      certificates,
      debug: 1,
    }),
  );
  return { name: options.name, configPath, certificates, publicKeyPath };
}
