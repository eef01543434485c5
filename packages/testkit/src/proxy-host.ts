import fs from "node:fs/promises";
import path from "node:path";
import { generateKeyPair, KeyStore, writeCertificate, type KeyPair } from "@osad2/keys";
import { freePorts, waitFor } from "@osad2/test-helpers";
import { iniSection } from "./ini.js";
import { startCli, type ManagedProcess } from "./process.js";

/** Options of {@link ProxyHost.create}. */
export interface ProxyHostOptions {
  /** The proxy's name (its key is proxies/NAME.key in the server's store). */
  readonly name: string;
  /** Its own directory (config, certs, log). */
  readonly dir: string;
  /** The server's key store: the proxy's key is admitted there (every proxy key lives on the server). */
  readonly serverCertificates: string;
  /** The parent's proxy-link port on 127.0.0.1 (the server's proxy_port, or a parent proxy's). */
  readonly upstreamPort: number;
  /** The parent's public key (the server's, or the parent proxy's). */
  readonly upstreamPublicKey: string;
  /** More `[osad2-proxy]` keys. */
  readonly config?: Record<string, string | number | boolean | undefined>;
  readonly echo?: boolean;
}

/**
 * One osad2-proxy host on this machine: its key pair (admitted in the server's proxies/), its
 * certificates and config, and the real `osad2-proxy run` process. Its ports are fixed when it
 * is created, so a restart (or kill -9 and start) comes back where clients look for it.
 */
export class ProxyHost {
  process: ManagedProcess | undefined;

  private constructor(
    readonly options: ProxyHostOptions,
    readonly keyPair: KeyPair,
    /** Where clients connect. */
    readonly listenerPort: number,
    /** Where child proxies connect. */
    readonly proxyPort: number,
    readonly configPath: string,
  ) {}

  get name(): string {
    return this.options.name;
  }

  /** Makes the key pair, admits it at the server and writes certificates and config. */
  static async create(options: ProxyHostOptions): Promise<ProxyHost> {
    const certs = path.join(options.dir, "certs");
    await fs.mkdir(path.join(certs, "private_keys"), { recursive: true, mode: 0o700 });
    await fs.mkdir(path.join(certs, "public_keys"), { recursive: true, mode: 0o755 });
    const keyPair = generateKeyPair();
    await writeCertificate(path.join(certs, "private_keys", "proxy.key_secret"), keyPair);
    await writeCertificate(path.join(certs, "public_keys", "proxy.key"), {
      publicKey: keyPair.publicKey,
    });
    await writeCertificate(path.join(certs, "public_keys", "upstream.key"), {
      publicKey: options.upstreamPublicKey,
    });
    const store = await KeyStore.open(options.serverCertificates, { allowList: "proxies" });
    try {
      await store.add(options.name, keyPair.publicKey);
    } finally {
      await store.close();
    }
    const [listenerPort, proxyPort] = (await freePorts(2)) as [number, number];
    const configPath = path.join(options.dir, "osad2-proxy.conf");
    await fs.writeFile(
      configPath,
      iniSection("osad2-proxy", {
        name: options.name,
        upstream: `127.0.0.1:${options.upstreamPort}`,
        bind: "127.0.0.1",
        listener_port: listenerPort,
        proxy_port: proxyPort,
        certificates: certs,
        debug: 1,
        ...options.config,
      }),
    );
    return new ProxyHost(options, keyPair, listenerPort, proxyPort, configPath);
  }

  /** The proxy's public key file, for clients (their server_public_key) and child proxies. */
  get publicKeyPath(): string {
    return path.join(this.options.dir, "certs", "public_keys", "proxy.key");
  }

  /** Starts `osad2-proxy run` and waits until it has linked to its parent. */
  async start(): Promise<ManagedProcess> {
    const proxy = startCli("proxy", ["run", "--config", this.configPath], {
      name: `proxy-${this.name}`,
      echo: this.options.echo,
    });
    this.process = proxy;
    await proxy.waitForLine(/"msg":"linked"/, 30_000);
    return proxy;
  }

  /** Waits until the running proxy has linked again (after its parent came back). */
  async waitLinked(after = 0, timeoutMs = 30_000): Promise<void> {
    const proxy = this.process;
    if (proxy === undefined) throw new Error(`proxy ${this.name} is not running`);
    await waitFor(
      `proxy ${this.name} linked`,
      () => proxy.matching(/"msg":"linked"/).length > after,
      { timeoutMs },
    );
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | string | undefined> {
    const proxy = this.process;
    this.process = undefined;
    return proxy?.kill(signal);
  }
}
