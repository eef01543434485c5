// The demo behind tools/demo: real processes, real CURVE, a real SQLite database.
import * as zmq from "zeromq";
import { generateKeyPair, KeyStore, readPublicKey, certificateLayout } from "@osad2/keys";
import { decodePublisherMessage } from "@osad2/protocol";
import { waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

const once = process.argv.includes("--once");
const labels = ["web01", "db01", "mail01"];
const t0 = Date.now();
const say = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(2).padStart(6)} s] ${msg}`);

const deployment = await Deployment.create({ database: "sqlite", pingInterval: 2 });
let observer;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say("stopping clients and server ...");
  observer?.close();
  await deployment.dispose();
  say("stopped; nothing left running.");
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  say(`working directory ${deployment.dir}`);
  say(`server keys in ${deployment.certificates}, database ${deployment.databaseUrl}`);
  await deployment.init();
  say("database migrated with the Spacewalk subset (osad2-server init)");
  for (const label of labels) {
    const s = await deployment.addSystem(label);
    say(`system ${label}: rhnServer id ${s.serverId}, signed systemid, own CURVE key pair`);
  }
  await deployment.startServer();
  say(
    `osad2-server running: PUB :${deployment.ports.publisher}, ROUTER :${deployment.ports.listener}, XML-RPC :${deployment.ports.xmlrpc}, metrics :${deployment.ports.metrics}`,
  );

  // An observer with a key of its own subscribes to everything on the PUB, as any client could:
  // it sees the pings, but no checkin of an osad2 client (wire v3: each gets its own, over its
  // one connection).
  const keys = generateKeyPair();
  const store = await KeyStore.open(deployment.certificates);
  await store.add("demo-observer", keys.publicKey);
  await store.close();
  observer = new zmq.Subscriber({
    curveServerKey: await readPublicKey(
      certificateLayout(deployment.certificates).serverPublicPath,
    ),
    curvePublicKey: keys.publicKey,
    curveSecretKey: keys.secretKey,
    linger: 0,
  });
  observer.connect(`tcp://127.0.0.1:${deployment.ports.publisher}`);
  // Pings too: the first one shows the subscription is in place (a SUB misses what the PUB
  // sent before it joined), so no checkin below goes unseen.
  observer.subscribe("system:", "ping");
  const scheduledAt = new Map();
  let observing = false;
  let overheard = 0;
  const names = new Map();
  void (async () => {
    for await (const frames of observer) {
      const msg = decodePublisherMessage(frames);
      if (msg.kind === "ping") observing = true;
      if (msg.kind !== "checkin") continue;
      overheard += 1;
      const label = names.get(msg.clientName) ?? msg.clientName;
      const since = scheduledAt.get(label);
      say(
        `  notification on the wire: "system:${msg.clientName} checkin" -> ${label}${since ? ` (${Date.now() - since} ms after scheduling)` : ""}`,
      );
    }
  })().catch(() => {});

  for (const label of labels) deployment.startClient(label);
  for (const label of labels) {
    const name = await deployment.waitOnline(label, 30_000);
    names.set(name, label);
    say(`osad2-client ${label} registered as "${name}" and is online in rhnPushClient`);
  }
  // Spacewalk's part: a finished rhn_check marks the system's actions completed.
  deployment.emulateSpacewalk();
  await waitFor("the observer's first ping", () => observing, { timeoutMs: 30_000 });

  let seen = 0;
  async function showRuns(expected, timeoutMs) {
    await waitFor("rhn_check runs", async () => (await deployment.runs()).length >= expected, {
      timeoutMs,
    });
    const runs = await deployment.runs();
    for (const run of runs.slice(seen)) {
      say(
        `  rhn_check ran on ${run.label}: "checked in", ${run.at - (scheduledAt.get(run.label) ?? run.at)} ms after scheduling`,
      );
    }
    seen = runs.length;
  }

  say(`scheduling packages.update for web01 ...`);
  scheduledAt.set("web01", Date.now());
  await deployment.schedule(["web01"]);
  await showRuns(1, 30_000);

  say(`scheduling a mass action (packages.update) for all ${labels.length} systems ...`);
  const now = Date.now();
  for (const label of labels) scheduledAt.set(label, now);
  await deployment.schedule(labels);
  await showRuns(1 + labels.length, 30_000);

  say(
    `an observer subscribed to everything on the PUB saw ${overheard} checkins: each osad2 client gets its own over its one connection (wire v3)`,
  );
  say("presence lives in rhnPushClient, as Spacewalk's system.getOsaPing reads it:");
  const rows = await deployment.sql(
    "SELECT pc.name AS name, s.label AS state, pc.server_id AS server_id FROM rhnpushclient pc JOIN rhnpushclientstate s ON s.id = pc.state_id ORDER BY pc.server_id",
  );
  for (const row of rows) say(`  server_id ${row.server_id}  name ${row.name}  ${row.state}`);
  say(`look yourself: sqlite3 ${deployment.databaseUrl.slice(7)} 'select * from rhnPushClient'`);
  say(`or: node packages/server/dist/cli.js status --config ${deployment.serverConfigPath}`);

  if (once) await shutdown(0);
  else say("running; press Ctrl-C to stop everything.");
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
}
