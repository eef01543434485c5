// The keys an installed RPM carries complete a real CURVE handshake with the server's key pair over TCP,
// accepted by a ZAP handler that consults the allow-list createclient wrote, and refused once revoked.
import { KeyStore, readKeyPair, readPublicKey, z85Encode, type KeyPair } from "@osad2/keys";
import { join } from "node:path";
import * as zmq from "zeromq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_PATHS, createClientPackage, createServerKeys } from "../src/index.js";
import { TempDirs, rpmInstall } from "./helpers.js";

const ZAP_DOMAIN = "osad2";
// Only ends a hung wait: load must never make a passing handshake fail.
const WAIT_MS = 15_000;

const temps = new TempDirs();
let certificates: string;
let serverStore: KeyStore;
let context: zmq.Context;
let zap: zmq.Router;
let server: zmq.Router;
let endpoint: string;
let clientPair: KeyPair;
let installedServerKey: string;
const dealers: zmq.Dealer[] = [];

/** A minimal ZAP handler (RFC 27): allow a CURVE key in the store, rescanning once for an unknown one. */
async function serveZap(socket: zmq.Router, store: KeyStore): Promise<void> {
  for await (const [
    routingId,
    delimiter,
    ,
    requestId,
    domain,
    ,
    ,
    mechanism,
    credential,
  ] of socket) {
    if (routingId === undefined || delimiter === undefined || requestId === undefined) continue;
    let allowed = false;
    if (
      domain?.toString() === ZAP_DOMAIN &&
      mechanism?.toString() === "CURVE" &&
      credential?.length === 32
    ) {
      const key = z85Encode(credential);
      if (!store.has(key)) await store.reload();
      allowed = store.has(key);
    }
    await socket.send([
      routingId,
      delimiter,
      "1.0",
      requestId,
      allowed ? "200" : "400",
      allowed ? "OK" : "denied",
      "",
      "",
    ]);
  }
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)),
      WAIT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A client socket with the installed keys; resolves with the first handshake outcome. */
function connectClient(): { dealer: zmq.Dealer; outcome: Promise<string> } {
  const dealer = new zmq.Dealer({
    context,
    linger: 0,
    curveServerKey: installedServerKey,
    curvePublicKey: clientPair.publicKey,
    curveSecretKey: clientPair.secretKey,
  });
  dealers.push(dealer);
  const outcome = (async () => {
    for await (const event of dealer.events) {
      if (event.type === "handshake" || event.type.startsWith("handshake:error")) return event.type;
    }
    return "closed";
  })();
  dealer.connect(endpoint);
  return { dealer, outcome };
}

beforeAll(async () => {
  const dir = await temps.make();
  certificates = join(dir, "certs");
  await createServerKeys({ certificates, config: false });
  serverStore = await KeyStore.open(certificates, { pollIntervalMs: 0 });
  const serverPair = await serverStore.readServerKeyPair();
  context = new zmq.Context();
  zap = new zmq.Router({ context, linger: 0 });
  await zap.bind("inproc://zeromq.zap.01");
  void serveZap(zap, serverStore).catch(() => undefined);
  server = new zmq.Router({
    context,
    linger: 0,
    curveServer: true,
    curvePublicKey: serverPair.publicKey,
    curveSecretKey: serverPair.secretKey,
    zapDomain: ZAP_DOMAIN,
    zapEnforceDomain: true,
  });
  await server.bind("tcp://127.0.0.1:0");
  endpoint = server.lastEndpoint ?? "";

  // The server is running before the client exists, as in production.
  const client = await createClientPackage({
    name: "curve01",
    certificates,
    out: join(dir, "rpms"),
    serverHost: "127.0.0.1",
    keysOnly: true,
  });
  const root = join(dir, "root");
  const install = await rpmInstall(root, client.rpmPath);
  if (install.code !== 0) throw new Error(install.stderr);
  clientPair = await readKeyPair(join(root, CLIENT_PATHS.secretKey));
  installedServerKey = await readPublicKey(join(root, CLIENT_PATHS.serverKey));
}, 60_000);

afterEach(() => {
  for (const dealer of dealers.splice(0)) dealer.close();
});

afterAll(async () => {
  server?.close();
  zap?.close();
  await serverStore?.close();
  await temps.removeAll();
});

describe("the installed keys over CURVE", () => {
  it("are accepted by the running server right away and carry messages", async () => {
    const { dealer, outcome } = connectClient();
    expect(await within(outcome, "the handshake")).toBe("handshake");
    await dealer.send("hello");
    const [routingId, body] = await within(server.receive(), "the message");
    expect(routingId?.length).toBeGreaterThan(0);
    expect(body?.toString()).toBe("hello");
  });

  it("are refused after KeyStore.revoke (from another KeyStore, as an admin would)", async () => {
    // The running server's store hears of it through fs.watch, as it would from another process.
    const removed = new Promise<void>((resolve) => {
      const stop = serverStore.watch((change) => {
        if (change.type === "removed" && change.key.publicKey === clientPair.publicKey) {
          stop();
          resolve();
        }
      });
    });
    const admin = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    await admin.revoke("curve01");
    await admin.close();
    await within(removed, "the server's key store to drop the revoked key");
    expect(serverStore.has(clientPair.publicKey)).toBe(false);
    const { outcome } = connectClient();
    expect(await within(outcome, "the refused handshake")).toBe("handshake:error:auth");
  });
});
