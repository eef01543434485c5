// The @osad2/client library against the real @osad2/server in one process, on SQLite and on
// PostgreSQL: registration over its XML-RPC endpoint, CURVE with its key store and ZAP,
// presence in rhnPushClient, actions scheduled in the database, a server restart and a
// revoked key. (The CLIs as users run them: roundtrip.test.ts and faults.test.ts.)
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type OsadClient, type RunRecord, createClient, loadConfig } from "@osad2/client";
import { KeyStore, createServerKeyPair, generateKeyPair, writeCertificate } from "@osad2/keys";
import {
  type Osad2Server,
  type ServerConfig,
  type SpacewalkStore,
  createServer,
  openStore,
} from "@osad2/server";
import { createSystem, scheduleAction, setServerActionStatus } from "@osad2/server/testing";
import {
  DATABASE_KINDS,
  TempDirs,
  createTestDatabase,
  freePorts,
  sleep,
  waitFor,
  type TestDatabase,
  type TestDatabaseKind,
} from "@osad2/test-helpers";
import { readRuns, writeRecorderScript } from "@osad2/testkit";
import { type Logger, pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";

/** A pino logger at debug level whose lines the test can read. */
function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l !== ""),
      );
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

interface Setup {
  readonly db: TestDatabase;
  readonly store: SpacewalkStore;
  readonly certificates: string;
  readonly serverConfig: Partial<ServerConfig>;
  server: Osad2Server;
  readonly client: OsadClient;
  readonly serverId: number;
  readonly runlog: string;
  readonly runs: RunRecord[];
  readonly logLines: string[];
  readonly label: string;
}

const dirs = new TempDirs("osad2-client-server-");
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await dirs.removeAll();
});

async function setup(kind: TestDatabaseKind): Promise<Setup> {
  const dir = await dirs.make();
  const db = await createTestDatabase(kind);
  cleanups.push(() => db.drop());
  const store = await openStore(db.url, db.schema === undefined ? {} : { schema: db.schema });
  cleanups.push(() => store.close());
  await store.prepare();

  const certificates = join(dir, "server-certs");
  const { keyPair: serverKeys } = await createServerKeyPair(certificates);
  const label = `sys-${kind}`;
  const clientKeys = generateKeyPair();
  const keyStore = await KeyStore.open(certificates);
  await keyStore.add(label, clientKeys.publicKey);
  await keyStore.close();

  const [publisherPort, listenerPort, xmlrpcPort] = await freePorts(3);
  const serverConfig: Partial<ServerConfig> = {
    bind: "127.0.0.1",
    publicHost: "127.0.0.1",
    publisherPort,
    listenerPort,
    proxyPort: 0,
    xmlrpcPort,
    metricsPort: 0,
    pingInterval: 0.5,
    actionPollInterval: 0.25,
    certificates,
    stateDir: join(dir, "server-state"),
    database: db.url,
    databaseSchema: db.schema ?? "",
  };
  const server = createServer(serverConfig, { prepare: false, processMetrics: false });
  cleanups.push(() => server.stop());
  await server.start();

  const { system, systemIdXml } = await createSystem(store, { name: label });
  const clientDir = join(dir, "client");
  const certs = join(clientDir, "certs");
  await mkdir(certs, { recursive: true, mode: 0o700 });
  await writeCertificate(join(certs, "client.key_secret"), clientKeys);
  await writeCertificate(join(certs, "server.key"), { publicKey: serverKeys.publicKey });
  await writeFile(join(clientDir, "systemid"), systemIdXml);
  const runlog = join(clientDir, "runs.log");
  const recorder = await writeRecorderScript(clientDir, runlog);
  const configPath = join(clientDir, "osad_client.cfg");
  await writeFile(
    configPath,
    `[osad]
systemid = ${join(clientDir, "systemid")}
server_url = ${server.endpoints().xmlrpc}
certificates = ${certs}
rhn_check_command = ${recorder} ${label}
registry_interval = 0.5
run_at_start = 0
jitter = 0
state_file = ${join(clientDir, "state.json")}
`,
  );
  const { logger, lines } = capturedLogger();
  const client = createClient(await loadConfig({ configPath }), {
    logger,
    reconnectIntervalMs: 200,
    reconnectMaxIntervalMs: 2_000,
    retryDelayMs: 60_000,
  });
  cleanups.push(() => client.stop(0));
  const runs: RunRecord[] = [];
  client.on("run", (run) => {
    runs.push(run);
    // what rhn_check does on a real system: the queued actions are done
    void store.dueActions(new Date(), { includePickedUp: true }).then(async (due) => {
      for (const a of due.filter((d) => d.serverId === system.id)) {
        await setServerActionStatus(store, {
          serverId: a.serverId,
          actionId: a.actionId,
          status: 2,
        });
      }
    });
  });
  return {
    db,
    store,
    certificates,
    serverConfig,
    server,
    client,
    serverId: system.id,
    runlog,
    runs,
    logLines: lines,
    label,
  };
}

function until<T>(
  what: string,
  ms: number,
  register: (resolve: (value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Starts the client and waits until the server has it online in rhnPushClient. */
async function online(s: Setup): Promise<string> {
  const registered = until<string>("registration", 30_000, (resolve) =>
    s.client.once("registered", (reply) => resolve(reply.clientName)),
  );
  const wentOnline = until<string>("online event", 30_000, (resolve) => {
    const off = s.server.on("online", ({ clientName }) => {
      off();
      resolve(clientName);
    });
  });
  await s.client.start();
  const name = await registered;
  expect(await wentOnline).toBe(name);
  const row = await s.store.findClient(name);
  expect(row).toMatchObject({ name, serverId: s.serverId, state: "online" });
  return name;
}

const nextRun = (s: Setup, ms: number): Promise<RunRecord> =>
  until("an rhn_check run", ms, (resolve) => s.client.once("run", resolve));

/**
 * Waits until the client has received `rounds` more pings. Pings and checkins travel the same
 * PUB connection in order, so a duplicate checkin sent before them has arrived by then: the
 * event that "nothing more came" is anchored on, instead of a fixed wait load could shorten.
 */
async function pingRounds(s: Setup, rounds: number): Promise<void> {
  const pings = () => s.logLines.filter((l) => l.includes('"msg":"ping"')).length;
  const target = pings() + rounds;
  await waitFor(`${rounds} more pings to the client`, () => pings() >= target, {
    timeoutMs: 30_000,
  });
}

describe.each(DATABASE_KINDS)("the client library with the real osad2-server on %s", (kind) => {
  it("a scheduled action makes the client run rhn_check exactly once, within 1 s", async () => {
    const s = await setup(kind);
    await online(s);
    const checkins: unknown[] = [];
    s.client.on("checkin", (c) => checkins.push(c));
    const ran = nextRun(s, 15_000);
    const scheduledAt = Date.now();
    await scheduleAction(s.store, { serverIds: [s.serverId] });
    const run = await ran;
    expect(run.startedAt - scheduledAt).toBeLessThan(1_000);
    expect(run).toMatchObject({ trigger: "checkin", exitCode: 0 });
    // nothing more: several poll and ping rounds later
    await pingRounds(s, 3);
    expect(checkins).toHaveLength(1);
    expect(s.runs).toHaveLength(1);
    expect(await readRuns(s.runlog)).toHaveLength(1);
  });

  it("server down 10 s and back: the client reconnects and an action scheduled meanwhile runs", async () => {
    const s = await setup(kind);
    const name = await online(s);
    const disconnected = until("disconnected", 30_000, (resolve) =>
      s.client.once("disconnected", () => resolve(undefined)),
    );
    await s.server.stop();
    await disconnected;
    await scheduleAction(s.store, { serverIds: [s.serverId] });
    // The outage itself: long enough for several of the client's reconnect attempts.
    await sleep(10_000);
    expect(s.runs).toHaveLength(0);

    const reconnected = until("connected again", 30_000, (resolve) =>
      s.client.once("connected", () => resolve(undefined)),
    );
    const ran = nextRun(s, 30_000);
    s.server = createServer(s.serverConfig, { prepare: false, processMetrics: false });
    const restarted = s.server;
    cleanups.push(() => restarted.stop());
    const restartedAt = Date.now();
    await s.server.start();
    await reconnected;
    const run = await ran;
    expect(run.trigger).toBe("checkin");
    // reconnect back-off is capped at 2 s here; catch-up follows the hello
    expect(run.startedAt - restartedAt).toBeLessThan(5_000);
    expect((await s.store.findClient(name))?.state).toBe("online");
    await pingRounds(s, 3);
    expect(s.runs).toHaveLength(1);
  }, 90_000);

  it("a revoked key: the client logs the authentication failure and runs nothing", async () => {
    const s = await setup(kind);
    await online(s);
    const failed = until<{ event: string }>("auth-failure", 30_000, (resolve) =>
      s.client.once("auth-failure", resolve),
    );
    const keyStore = await KeyStore.open(s.certificates);
    await keyStore.revoke(s.label);
    await keyStore.close();
    expect((await failed).event).toBe("handshake:error:auth");
    expect(
      s.logLines.some((l) => /authentication failure .*refused this client's key/.test(l)),
    ).toBe(true);
    expect(s.client.status().state).toBe("auth-failure");
    let refused = 0;
    s.client.on("auth-failure", () => refused++);
    await scheduleAction(s.store, { serverIds: [s.serverId] });
    // The client keeps knocking and the server keeps refusing while the action is due: three
    // more refused handshakes (back-off 0.4, 0.8, 1.6 s) span several of the server's poll rounds.
    await waitFor("three more refused handshakes", () => refused >= 3, { timeoutMs: 30_000 });
    expect(s.runs).toHaveLength(0);
    expect(await readRuns(s.runlog)).toEqual([]);
  });
});
