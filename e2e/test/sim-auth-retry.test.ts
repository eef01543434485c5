// The simulated client retries a refused key as the real client does (libzmq never would):
// behind a real osad2-proxy, a key the server's allow-list does not know yet is refused at the
// proxy's handshake; once it is added, the same simulated client gets in without a restart.
// (tools/bench proxy at 18,000 clients: keys refused while the server was slow to answer
// the proxy's admit? stayed out for good.)
import { generateKeyPair, KeyStore } from "@osad2/keys";
import { waitFor } from "@osad2/test-helpers";
import { createSimSystems, Deployment, SimPool, type SimEvent } from "@osad2/testkit";
import path from "node:path";
import { afterEach, expect, it } from "vitest";

let d: Deployment | undefined;
let pool: SimPool | undefined;
afterEach(async () => {
  pool?.close();
  pool = undefined;
  await d?.dispose();
  d = undefined;
});

it("a simulated client refused at the proxy connects once its key is admitted", async () => {
  d = await Deployment.create({ database: "sqlite" });
  await d.init();
  const proxy = await d.addProxy("retry");
  await d.startServer();
  await proxy.start();
  const [system] = await createSimSystems({
    store: await d.store(),
    certificates: d.certificates,
    count: 1,
    method: "store",
    systemidDir: path.join(d.dir, "sim-systems"),
  });
  if (system === undefined) throw new Error("no simulated system");
  // A key of its own that no allow-list knows yet.
  const late = generateKeyPair();
  const events: SimEvent[] = [];
  const endpoint = `tcp://127.0.0.1:${proxy.listenerPort}`;
  pool = new SimPool(
    {
      publisherEndpoint: endpoint,
      listenerEndpoint: endpoint,
      serverPublicKey: proxy.keyPair.publicKey,
      clients: [{ ...system, publicKey: late.publicKey, secretKey: late.secretKey }],
    },
    (event) => events.push(event),
  );
  await pool.start();
  await waitFor("the key refused at the proxy", () =>
    events.some((e) => e.type === "auth-failed"),
  );
  expect(events.some((e) => e.type === "connected")).toBe(false);
  const keys = await KeyStore.open(d.certificates);
  try {
    await keys.add(`${system.label}-late`, late.publicKey);
  } finally {
    await keys.close();
  }
  // The proxy remembers a refusal 2 s; the client backs off 1 s, 2 s, 4 s … from its first refusal.
  await waitFor("the same client connected", () => events.some((e) => e.type === "connected"), {
    timeoutMs: 30_000,
  });
  expect(events.filter((e) => e.type === "auth-failed").length).toBeGreaterThanOrEqual(1);
});
