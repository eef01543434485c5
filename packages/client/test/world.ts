// A small world for client tests: a seed-style CURVE server, a register_osad XML-RPC server
// pointing at it, key files, a systemid, a config file and the fake rhn_check.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type KeyPair, generateKeyPair, writeCertificate } from "@osad2/keys";
import { type ClientConfig, type ConfigOverrides, loadConfig } from "../src/index.js";
import { FAKE_RHN_CHECK, tempDir } from "./helpers.js";
import { SeedServer } from "./seed-server.js";
import { type TestXmlRpcServer, startXmlRpcServer, systemIdXml } from "./xmlrpc-server.js";

export interface World {
  readonly dir: string;
  readonly seed: SeedServer;
  readonly xmlrpc: TestXmlRpcServer;
  readonly serverKeys: KeyPair;
  readonly clientKeys: KeyPair;
  readonly configPath: string;
  readonly systemidPath: string;
  readonly runlog: string;
  /** Names handed out so far, in order. */
  readonly names: string[];
  config(overrides?: ConfigOverrides): Promise<ClientConfig>;
}

export interface WorldOptions {
  /** Write server.key with this key (default: the real server key); null = no file. */
  readonly serverKeyFile?: string | null;
  /** Put server-public-key into the reply (default: the real server key); null = leave out. */
  readonly replyKey?: string | null;
  /** Leave the client key out of the server's allow-list. */
  readonly clientNotAllowed?: boolean;
  /** Extra `[osad]` lines. */
  readonly osad?: Record<string, string>;
}

const worlds: World[] = [];

export async function makeWorld(options: WorldOptions = {}): Promise<World> {
  const dir = await tempDir();
  const serverKeys = generateKeyPair();
  const clientKeys = generateKeyPair();
  const seed = await SeedServer.start({
    keyPair: serverKeys,
    allowed: new Set(options.clientNotAllowed ? [] : [clientKeys.publicKey]),
  });
  const names: string[] = [];
  const replyKey = options.replyKey === undefined ? serverKeys.publicKey : options.replyKey;
  const xmlrpc = await startXmlRpcServer((params, call) => {
    const name = `client${String(call).padStart(4, "0")}`;
    names.push(name);
    return {
      value: {
        ...(params[1] as object),
        "client-name": name,
        "shared-key": "f".repeat(40),
        "server-timestamp": Math.floor(Date.now() / 1000),
        "jabber-server": "127.0.0.1",
        dispatchers: [],
        "publisher-endpoint": seed.publisherEndpoint,
        "listener-endpoint": seed.listenerEndpoint,
        ...(replyKey !== null ? { "server-public-key": replyKey } : {}),
      },
    };
  });
  const certs = join(dir, "certs");
  await mkdir(certs, { recursive: true, mode: 0o700 });
  await writeCertificate(join(certs, "client.key_secret"), clientKeys);
  const serverKeyFile =
    options.serverKeyFile === undefined ? serverKeys.publicKey : options.serverKeyFile;
  if (serverKeyFile !== null)
    await writeCertificate(join(certs, "server.key"), { publicKey: serverKeyFile });
  const runlog = join(dir, "runs.log");
  const systemidPath = join(dir, "systemid");
  await writeFile(systemidPath, systemIdXml(1000010000));
  const configPath = join(dir, "osad_client.cfg");
  const osad: Record<string, string> = {
    systemid: systemidPath,
    server_url: xmlrpc.url,
    certificates: certs,
    // env(1) passes the run log's path without a shell and execs the script (same pid)
    rhn_check_command: `/usr/bin/env RUNLOG=${runlog} ${FAKE_RHN_CHECK} --from-osad2`,
    registry_interval: "0.2",
    run_at_start: "0",
    state_file: join(dir, "state", "state.json"),
    up2date: join(dir, "no-up2date"),
    ...options.osad,
  };
  await writeFile(
    configPath,
    `[osad]\n${Object.entries(osad)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n")}\n`,
  );
  const world: World = {
    dir,
    seed,
    xmlrpc,
    serverKeys,
    clientKeys,
    configPath,
    systemidPath,
    runlog,
    names,
    config: (overrides = {}) => loadConfig({ configPath, overrides }),
  };
  worlds.push(world);
  return world;
}

export async function disposeWorlds(): Promise<void> {
  for (const w of worlds.splice(0)) {
    w.seed.close();
    await w.xmlrpc.close();
  }
}
