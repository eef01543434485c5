import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import xmlrpc from "xmlrpc";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  DatabaseUnavailableError,
  isUnavailable,
  openStore,
  type SpacewalkStore,
} from "../src/db/index.js";
import { registrationMethods } from "../src/registration/index.js";
import { createSystem } from "../src/testing/index.js";
import {
  FAULT_INTERNAL_ERROR,
  FAULT_INVALID_PARAMS,
  FAULT_INVALID_REQUEST,
  FAULT_METHOD_NOT_FOUND,
  FAULT_PARSE_ERROR,
  FAULT_SERVER_UNAVAILABLE,
  startXmlRpcServer,
  XmlRpcServerError,
  type XmlRpcServer,
} from "../src/xmlrpc/index.js";
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from "@osad2/test-helpers";

const EXTRAS = {
  publicHost: "spacewalk.example.com",
  publisherEndpoint: "tcp://spacewalk.example.com:5555",
  listenerEndpoint: "tcp://spacewalk.example.com:5556",
  serverPublicKey: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
};

interface CallOutcome {
  value?: unknown;
  fault?: { faultCode: number; faultString: string };
  error?: Error;
}

/** One call with the real xmlrpc client; faults and transport errors come back as data. */
function call(client: xmlrpc.Client, method: string, params: unknown[]): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client.methodCall(method, params, (error: unknown, value: unknown) => {
      if (error === null || error === undefined) return resolve({ value });
      const e = error as Error & { faultCode?: number; faultString?: string };
      if (typeof e.faultCode === "number")
        return resolve({ fault: { faultCode: e.faultCode, faultString: e.faultString ?? "" } });
      resolve({ error: e });
    });
  });
}

/** A raw HTTP request, for what no well-behaved client would send. */
function raw(
  port: number,
  options: {
    method?: string;
    path?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
  },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path ?? "/XMLRPC",
        headers: options.headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

function faultCodeOf(xml: string): number | undefined {
  const match = /<name>faultCode<\/name>\s*<value>\s*<int>(-?\d+)<\/int>/.exec(xml);
  return match ? Number(match[1]) : undefined;
}

describe.each(DATABASE_KINDS)("registration endpoint on %s", (kind) => {
  let db: TestDatabase;
  let store: SpacewalkStore;
  let server: XmlRpcServer;
  let client: xmlrpc.Client;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url, { schema: db.schema });
    await store.prepare();
    server = await startXmlRpcServer({
      host: "127.0.0.1",
      port: 0,
      methods: registrationMethods(store, EXTRAS),
    });
    client = xmlrpc.createClient({ host: "127.0.0.1", port: server.port, path: "/XMLRPC" });
  });

  afterAll(async () => {
    await server.close();
    await store.close();
    await db.drop();
  });

  it("round-trips register_osad with a real XML-RPC client", async () => {
    const { system, systemIdXml } = await createSystem(store, { name: "web01" });
    const now = Math.floor(Date.now() / 1000);
    const outcome = await call(client, "registration.register_osad", [
      systemIdXml,
      { "client-timestamp": now },
    ]);
    expect(outcome.fault).toBeUndefined();
    const reply = outcome.value as Record<string, unknown>;
    expect(reply).toMatchObject({
      "client-timestamp": now,
      "jabber-server": "spacewalk.example.com",
      dispatchers: [], // rhnPushDispatcher is empty, as Spacewalk answers
      "publisher-endpoint": EXTRAS.publisherEndpoint,
      "listener-endpoint": EXTRAS.listenerEndpoint,
      "server-public-key": EXTRAS.serverPublicKey,
    });
    expect(reply["client-name"]).toMatch(/^[0-9a-f]{16}$/);
    expect(reply["shared-key"]).toMatch(/^[0-9a-f]{40}$/);
    expect(await store.findClient(String(reply["client-name"]))).toMatchObject({
      serverId: system.id,
      state: "offline",
    });

    // The args struct is optional, as in Spacewalk.
    const bare = await call(client, "registration.register_osad", [systemIdXml]);
    expect((bare.value as Record<string, unknown>)["client-name"]).toMatch(/^[0-9a-f]{16}$/);

    const jid = await call(client, "registration.register_osad_jid", [
      systemIdXml,
      { "jabber-id": "osad@example/osad" },
    ]);
    expect(jid.value).toEqual({});
  });

  it("answers a forged checksum with fault -9 and writes no row", async () => {
    const { systemIdXml } = await createSystem(store, { name: "forged" });
    const forged = systemIdXml.replace(/<name>checksum<\/name>\n<value><string>[0-9a-f]/, (m) =>
      m.endsWith("0") ? `${m.slice(0, -1)}1` : `${m.slice(0, -1)}0`,
    );
    expect(forged).not.toBe(systemIdXml);
    const before = await db.count("rhnpushclient");
    const outcome = await call(client, "registration.register_osad", [forged, {}]);
    expect(outcome.fault?.faultCode).toBe(-9);
    expect(outcome.fault?.faultString).toMatch(/checksum .* does not match/);
    expect(outcome.fault?.faultString).toMatch(
      /^\nError Message:\n {4}Please run rhn_register as root on this client\nError Class Code: 9\n/,
    );
    expect(await db.count("rhnpushclient")).toBe(before);
  });

  it("answers an unknown system with fault -9 and an ANONYMOUS one with fault -28", async () => {
    const { systemIdXml } = await createSystem(store, { name: "gone" });
    const unknown = systemIdXml.replace(/ID-\d+/g, "ID-999");
    expect((await call(client, "registration.register_osad", [unknown, {}])).fault).toMatchObject({
      faultCode: -9,
    });
    const anonymous = systemIdXml.replace("<string>REAL</string>", "<string>ANONYMOUS</string>");
    const outcome = await call(client, "registration.register_osad", [anonymous, {}]);
    expect(outcome.fault?.faultCode).toBe(-28);
  });

  it("answers wrong argument counts and types with Spacewalk's fault 1, a systemid not a string with -9", async () => {
    const { systemIdXml } = await createSystem(store, { name: "types" });
    expect(FAULT_INVALID_PARAMS).toBe(1);
    for (const params of [
      [],
      [systemIdXml, {}, "extra"],
      [systemIdXml, "not a struct"],
      [systemIdXml, [1, 2]],
    ]) {
      const outcome = await call(client, "registration.register_osad", params);
      expect(outcome.fault?.faultCode, JSON.stringify(params).slice(0, 60)).toBe(
        FAULT_INVALID_PARAMS,
      );
      expect(outcome.fault?.faultString).toMatch(/registration\.register_osad/);
    }
    for (const params of [[42, {}], [null], [[systemIdXml], {}]]) {
      const outcome = await call(client, "registration.register_osad", params);
      expect(outcome.fault?.faultCode, JSON.stringify(params).slice(0, 60)).toBe(-9);
      expect(outcome.fault?.faultString).toMatch(/argument 1 \(systemid\) must be a string/);
    }
  });

  it("answers an unknown method with Spacewalk's fault -1, not HTTP 404", async () => {
    const outcome = await call(client, "registration.no_such_method", ["x"]);
    expect(FAULT_METHOD_NOT_FOUND).toBe(-1);
    expect(outcome.fault?.faultCode).toBe(FAULT_METHOD_NOT_FOUND);
    expect(outcome.fault?.faultString).toMatch(
      /unknown method "registration.no_such_method".*register_osad/,
    );
    expect((await call(client, "constructor", [])).fault?.faultCode).toBe(FAULT_METHOD_NOT_FOUND);
    expect((await call(client, "__proto__", [])).fault?.faultCode).toBe(FAULT_METHOD_NOT_FOUND);
  });

  it("answers garbage with faults or 4xx and keeps serving", async () => {
    const garbage = await raw(server.port, { body: "this is not xml <<<" });
    expect(garbage.status).toBe(200);
    expect(faultCodeOf(garbage.body)).toBe(FAULT_PARSE_ERROR);

    const empty = await raw(server.port, { body: "" });
    expect(faultCodeOf(empty.body)).toBe(FAULT_PARSE_ERROR);

    const response = await raw(server.port, {
      body: '<?xml version="1.0"?><methodResponse><params/></methodResponse>',
    });
    expect(faultCodeOf(response.body)).toBe(FAULT_INVALID_REQUEST);

    const badInt = await raw(server.port, {
      body: "<methodCall><methodName>registration.register_osad</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
    });
    expect(faultCodeOf(badInt.body)).toBe(FAULT_PARSE_ERROR);

    // A struct member named __proto__ must not smuggle members into args.
    const proto = await raw(server.port, {
      body: `<methodCall><methodName>registration.register_osad_jid</methodName><params>
        <param><value><string>x</string></value></param>
        <param><value><struct><member><name>__proto__</name><value><struct><member><name>jabber-id</name><value>j</value></member></struct></value></member></struct></value></param>
        </params></methodCall>`,
    });
    expect(faultCodeOf(proto.body)).toBe(-9);

    expect((await raw(server.port, { method: "GET" })).status).toBe(405);
    expect((await raw(server.port, { path: "/other", body: "<x/>" })).status).toBe(404);

    const big = Buffer.alloc(1024 * 1024 + 1, "a");
    expect((await raw(server.port, { body: big })).status).toBe(413);
    // Without Content-Length (chunked), the limit holds while reading.
    expect(
      (await raw(server.port, { body: big, headers: { "Transfer-Encoding": "chunked" } })).status,
    ).toBe(413);

    // Still alive and correct after all of that.
    const { systemIdXml } = await createSystem(store, { name: "after-garbage" });
    const outcome = await call(client, "registration.register_osad", [systemIdXml, {}]);
    expect((outcome.value as Record<string, unknown>)["client-name"]).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("XML-RPC adapter", () => {
  const servers: XmlRpcServer[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  async function start(
    methods: Parameters<typeof startXmlRpcServer>[0]["methods"],
    tls?: { cert: string; key: string },
  ) {
    const server = await startXmlRpcServer({
      host: "127.0.0.1",
      port: 0,
      methods,
      ...(tls ? { tls } : {}),
      // As the registration endpoint wires it: the database layer says what "unavailable" is.
      isUnavailable,
    });
    servers.push(server);
    return server;
  }

  it("turns thrown handler errors into faults instead of crashing", async () => {
    const server = await start({
      "t.sync": () => {
        throw new Error("sync failure");
      },
      "t.async": async () => {
        throw new TypeError("async failure");
      },
      "t.string": () => {
        throw "a string";
      },
      "t.db": async () => {
        throw new DatabaseUnavailableError("db.example:5432/spacewalk", "connection refused");
      },
      "t.echo": (params) => params[0] ?? null,
    });
    const client = xmlrpc.createClient({ host: "127.0.0.1", port: server.port, path: "/XMLRPC" });
    expect((await call(client, "t.sync", [])).fault).toEqual({
      faultCode: FAULT_INTERNAL_ERROR,
      faultString: "internal error in t.sync: sync failure",
    });
    expect((await call(client, "t.async", [])).fault?.faultString).toBe(
      "internal error in t.async: async failure",
    );
    expect((await call(client, "t.string", [])).fault?.faultCode).toBe(FAULT_INTERNAL_ERROR);
    const db = await call(client, "t.db", []);
    expect(db.fault?.faultCode).toBe(FAULT_SERVER_UNAVAILABLE);
    expect(db.fault?.faultString).not.toMatch(/db\.example/);
    const value = { a: [1, "two", true], b: { c: new Date("2024-01-02T03:04:05Z") } };
    expect((await call(client, "t.echo", [value])).value).toEqual(value);
  });

  it("answers -32500 only for errors its isUnavailable option recognises", async () => {
    const server = await startXmlRpcServer({
      host: "127.0.0.1",
      port: 0,
      methods: {
        "t.db": async () => {
          throw new DatabaseUnavailableError("db.example:5432/spacewalk", "connection refused");
        },
      },
    });
    servers.push(server);
    const client = xmlrpc.createClient({ host: "127.0.0.1", port: server.port, path: "/XMLRPC" });
    expect((await call(client, "t.db", [])).fault?.faultCode).toBe(FAULT_INTERNAL_ERROR);
  });

  it("serves HTTPS when given a certificate and key", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "osad2-tls-"));
    dirs.push(dir);
    const keyPath = path.join(dir, "key.pem");
    const certPath = path.join(dir, "cert.pem");
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    const cert = await fs.readFile(certPath, "utf8");
    const server = await start(
      { "t.ping": () => "pong" },
      { cert, key: await fs.readFile(keyPath, "utf8") },
    );
    // The client hands its options to https.request, so `ca` trusts the self-signed certificate.
    const options = { host: "127.0.0.1", port: server.port, path: "/XMLRPC", ca: cert };
    const client = xmlrpc.createSecureClient(options);
    expect((await call(client, "t.ping", [])).value).toBe("pong");
    // Plain HTTP to the TLS port gets no XML-RPC answer.
    const plain = xmlrpc.createClient({ host: "127.0.0.1", port: server.port, path: "/XMLRPC" });
    expect((await call(plain, "t.ping", [])).value).toBeUndefined();
  });

  it("reports a port in use and bad TLS material as XmlRpcServerError", async () => {
    const first = await start({});
    const error = await startXmlRpcServer({
      host: "127.0.0.1",
      port: first.port,
      methods: {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XmlRpcServerError);
    expect((error as Error).message).toMatch(/port is in use/);
    await expect(
      startXmlRpcServer({
        host: "127.0.0.1",
        port: 0,
        methods: {},
        tls: { cert: "nope", key: "nope" },
      }),
    ).rejects.toBeInstanceOf(XmlRpcServerError);
    await expect(
      startXmlRpcServer({ host: "127.0.0.1", port: 70000, methods: {} }),
    ).rejects.toThrow(/port must be/);
  });

  it("closes idempotently and stops answering", async () => {
    const server = await start({ "t.ping": () => "pong" });
    await server.close();
    await server.close();
    const client = xmlrpc.createClient({ host: "127.0.0.1", port: server.port, path: "/XMLRPC" });
    expect((await call(client, "t.ping", [])).error).toBeDefined();
  });
});
