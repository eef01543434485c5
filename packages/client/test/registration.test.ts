import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair } from "@osad2/keys";
import { createLogger } from "@osad2/service-kit";
import { afterEach, describe, expect, it } from "vitest";
import {
  Registrar,
  RegistrationError,
  RegistrationFault,
  parseReply,
  registerOsad,
  resolveEndpoints,
  type RegistrationReply,
} from "../src/index.js";
import { cleanupTempDirs, tempDir } from "./helpers.js";
import {
  closeXmlRpcServers,
  makeTlsFiles,
  startXmlRpcServer,
  systemIdXml,
  systemidFile,
} from "./xmlrpc-server.js";

const registrars: Registrar[] = [];
afterEach(async () => {
  for (const r of registrars.splice(0)) r.stop();
  await closeXmlRpcServers();
  await cleanupTempDirs();
});

/** What Spacewalk's register_osad returns (plus, optionally, osad2's extensions). */
function spacewalkReply(
  params: unknown[],
  extra: Record<string, unknown> = {},
): { value: unknown } {
  return {
    value: {
      ...(params[1] as object),
      "client-name": "0123456789abcdef",
      "shared-key": "a".repeat(40),
      "server-timestamp": 1_700_000_000,
      "jabber-server": "127.0.0.1",
      dispatchers: ["osad2"],
      ...extra,
    },
  };
}

describe("registerOsad", () => {
  it("sends the systemid text and client-timestamp and types the reply", async () => {
    const server = await startXmlRpcServer((params) => spacewalkReply(params));
    const systemidPath = await systemidFile();
    const reply = await registerOsad({ serverUrl: server.url, systemidPath });
    expect(server.calls).toHaveLength(1);
    const [systemid, args] = server.calls[0] as [string, Record<string, unknown>];
    expect(systemid).toBe(systemIdXml(1000010001));
    const ts = args["client-timestamp"] as number;
    expect(Number.isInteger(ts)).toBe(true);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
    expect(reply).toMatchObject({
      clientName: "0123456789abcdef",
      sharedKey: "a".repeat(40),
      serverTimestamp: 1_700_000_000,
      jabberServer: "127.0.0.1",
      dispatchers: ["osad2"],
      publisherEndpoint: undefined,
      serverPublicKey: undefined,
    });
    expect(reply.raw["client-timestamp"]).toBe(ts);
    // no osad2 extensions: jabber-server and the configured ports
    const settings = { serverUrl: server.url, publisherPort: 6001, listenerPort: 6002 };
    expect(resolveEndpoints(reply, { ...settings, serverHost: [] })).toEqual({
      publisherEndpoint: "tcp://127.0.0.1:6001",
      listenerEndpoint: "tcp://127.0.0.1:6002",
      servers: [
        { publisherEndpoint: "tcp://127.0.0.1:6001", listenerEndpoint: "tcp://127.0.0.1:6002" },
      ],
      source: "jabber-server",
    });
    // server_host set explicitly wins over jabber-server (which names Spacewalk itself).
    const explicit = resolveEndpoints(reply, {
      ...settings,
      serverHost: [{ host: "proxy.example.com", port: undefined }],
    });
    expect(explicit.listenerEndpoint).toBe("tcp://proxy.example.com:6002");
    expect(explicit.source).toBe("server_host");
  });

  it("uses osad2's endpoint and key extensions when the reply has them", async () => {
    const { publicKey } = generateKeyPair();
    const server = await startXmlRpcServer((params) =>
      spacewalkReply(params, {
        "publisher-endpoint": "tcp://127.0.0.1:7001",
        "listener-endpoint": "tcp://127.0.0.1:7002",
        "server-public-key": publicKey,
      }),
    );
    const reply = await registerOsad({ serverUrl: server.url, systemidPath: await systemidFile() });
    expect(reply.serverPublicKey).toBe(publicKey);
    const settings = { serverUrl: server.url, publisherPort: 1, listenerPort: 2 };
    expect(resolveEndpoints(reply, { ...settings, serverHost: [] })).toEqual({
      publisherEndpoint: "tcp://127.0.0.1:7001",
      listenerEndpoint: "tcp://127.0.0.1:7002",
      servers: [
        { publisherEndpoint: "tcp://127.0.0.1:7001", listenerEndpoint: "tcp://127.0.0.1:7002" },
      ],
      source: "reply",
    });
    // An explicit list wins over the reply's endpoints, in its order, each with its own port.
    const listed = resolveEndpoints(reply, {
      ...settings,
      serverHost: [
        { host: "sw1.example.com", port: undefined },
        { host: "::1", port: 6100 },
      ],
    });
    expect(listed).toEqual({
      publisherEndpoint: "tcp://sw1.example.com:1",
      listenerEndpoint: "tcp://sw1.example.com:2",
      servers: [
        {
          publisherEndpoint: "tcp://sw1.example.com:1",
          listenerEndpoint: "tcp://sw1.example.com:2",
        },
        { publisherEndpoint: "tcp://[::1]:1", listenerEndpoint: "tcp://[::1]:6100" },
      ],
      source: "server_host",
    });
  });

  it("learns every failover server from the reply's listener-endpoints", async () => {
    const server = await startXmlRpcServer((params) =>
      spacewalkReply(params, {
        "publisher-endpoint": "tcp://127.0.0.1:7001",
        "listener-endpoint": "tcp://127.0.0.1:7002",
        "listener-endpoints": ["tcp://127.0.0.1:7002", "tcp://127.0.0.2:7002"],
      }),
    );
    const reply = await registerOsad({ serverUrl: server.url, systemidPath: await systemidFile() });
    expect(reply.listenerEndpoints).toEqual(["tcp://127.0.0.1:7002", "tcp://127.0.0.2:7002"]);
    const endpoints = resolveEndpoints(reply, {
      serverUrl: server.url,
      serverHost: [],
      publisherPort: 1,
      listenerPort: 2,
    });
    expect(endpoints.servers.map((s) => s.listenerEndpoint)).toEqual([
      "tcp://127.0.0.1:7002",
      "tcp://127.0.0.2:7002",
    ]);
    expect(endpoints.listenerEndpoint).toBe("tcp://127.0.0.1:7002");
  });

  it("refuses a listener-endpoints that is not a list of tcp://host:port", () => {
    const base = { "client-name": "0123456789abcdef", "shared-key": "a".repeat(40) };
    expect(() => parseReply("u", { ...base, "listener-endpoints": "tcp://h:1" })).toThrow(
      /listener-endpoints that is not an array/,
    );
    expect(() => parseReply("u", { ...base, "listener-endpoints": ["h:1"] })).toThrow(
      /listener-endpoints entry "h:1"/,
    );
  });

  it("falls back to server_host when the reply names no host", () => {
    const reply = {
      jabberServer: undefined,
      publisherEndpoint: undefined,
      listenerEndpoint: undefined,
      listenerEndpoints: [],
    } as unknown as RegistrationReply;
    const settings = { serverUrl: "https://[::2]/XMLRPC", publisherPort: 5555, listenerPort: 5556 };
    expect(
      resolveEndpoints(reply, { ...settings, serverHost: [{ host: "::1", port: undefined }] }),
    ).toMatchObject({
      publisherEndpoint: "tcp://[::1]:5555",
      listenerEndpoint: "tcp://[::1]:5556",
      source: "server_host",
    });
    // Nothing set: server_url's host.
    expect(resolveEndpoints(reply, { ...settings, serverHost: [] })).toMatchObject({
      listenerEndpoint: "tcp://[::2]:5556",
      source: "server_url",
    });
  });

  it("turns an XML-RPC fault into RegistrationFault with its faultCode", async () => {
    const server = await startXmlRpcServer(() => ({
      fault: { faultCode: -9, faultString: "Invalid System Credentials" },
    }));
    const error = await registerOsad({
      serverUrl: server.url,
      systemidPath: await systemidFile(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistrationFault);
    expect(error).toMatchObject({
      faultCode: -9,
      faultString: "Invalid System Credentials",
      url: server.url,
    });
    expect((error as Error).message).toContain("rhnreg_ks");
  });

  it("keeps Spacewalk's multi-line fault text as faultString and puts it on one line in the message", async () => {
    const spacewalkText =
      "\nError Message:\n    Please run rhn_register as root on this client\nError Class Code: 9\nError Class Info: Invalid System Credentials.\nExplanation: system ID-1000010001 is not registered\n";
    const server = await startXmlRpcServer(() => ({
      fault: { faultCode: -9, faultString: spacewalkText },
    }));
    const error = await registerOsad({
      serverUrl: server.url,
      systemidPath: await systemidFile(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ faultCode: -9, faultString: spacewalkText });
    expect((error as Error).message).toBe(
      `registration at ${server.url} refused with fault -9: Error Message: Please run rhn_register as root on this client Error Class Code: 9 Error Class Info: Invalid System Credentials. Explanation: system ID-1000010001 is not registered — check that this system is registered to that server (rhnreg_ks) and its systemid is current`,
    );
  });

  it.each([
    ["a struct without client-name", { "jabber-server": "x" }, /client-name/],
    ["a client-name with a space", { "client-name": "a b" }, /client-name/],
    ["a string", "nope", /not a struct/],
    [
      "a bad endpoint",
      { "client-name": "abc", "publisher-endpoint": "http://x" },
      /tcp:\/\/host:port/,
    ],
    ["a bad server key", { "client-name": "abc", "server-public-key": "short" }, /Z85/],
  ])("refuses a reply that is %s", async (_what, value, message) => {
    const server = await startXmlRpcServer(() => ({ value }));
    const error = await registerOsad({
      serverUrl: server.url,
      systemidPath: await systemidFile(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistrationError);
    expect((error as RegistrationError).reason).toBe("bad-reply");
    expect((error as Error).message).toMatch(message);
  });

  it("reports an unreachable server, a timeout and a missing systemid distinctly", async () => {
    const systemidPath = await systemidFile();
    const hanging = await startXmlRpcServer(() => ({ hang: true }));
    const closed = await startXmlRpcServer(() => ({ value: {} }));
    await closed.close();
    const started = Date.now();
    const errors = await Promise.all([
      registerOsad({ serverUrl: closed.url, systemidPath }).catch((e: unknown) => e),
      registerOsad({ serverUrl: hanging.url, systemidPath, timeoutMs: 300 }).catch(
        (e: unknown) => e,
      ),
      registerOsad({ serverUrl: hanging.url, systemidPath: `${systemidPath}.missing` }).catch(
        (e: unknown) => e,
      ),
    ]);
    // The 300 ms timeout applied, not the 30 s default (the bound leaves room for load).
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const e of errors) expect(e).toBeInstanceOf(RegistrationError);
    const [refused, timedOut, noSystemid] = errors as RegistrationError[];
    expect(refused!.reason).toBe("network");
    expect(refused!.message).toContain("ECONNREFUSED");
    expect(timedOut!.reason).toBe("timeout");
    expect(noSystemid!.reason).toBe("systemid");
    expect(noSystemid!.message).toContain("rhnreg_ks");
    expect(hanging.calls).toHaveLength(1); // the missing systemid never reached the server
  });

  it("reports an HTTP error (a server without register_osad answers 404)", async () => {
    const server = await startXmlRpcServer(() => ({ value: {} }), undefined, "some.other_method");
    const error = await registerOsad({
      serverUrl: server.url,
      systemidPath: await systemidFile(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistrationError);
    expect((error as RegistrationError).reason).toBe("http");
    expect((error as Error).message).toMatch(/HTTP 404.*server_url/);
  });

  it("speaks https with the CA from ca_cert, and refuses a server it cannot verify", async () => {
    const dir = await tempDir();
    const tls = await makeTlsFiles(dir);
    const server = await startXmlRpcServer((params) => spacewalkReply(params), {
      key: tls.key,
      cert: tls.cert,
    });
    const systemidPath = await systemidFile();
    const reply = await registerOsad({ serverUrl: server.url, caCert: tls.caPath, systemidPath });
    expect(reply.clientName).toBe("0123456789abcdef");
    const error = await registerOsad({ serverUrl: server.url, systemidPath }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistrationError);
    expect((error as RegistrationError).reason).toBe("network");
    expect((error as Error).message).toMatch(/TLS .* failed .*ca_cert/);
    expect(server.calls).toHaveLength(1);
  });
});

describe("Registrar", () => {
  it("retries failures every registry_interval (with jitter) until it registers", async () => {
    const server = await startXmlRpcServer((params, call) =>
      call <= 2 ? { fault: { faultCode: -1, faultString: "not yet" } } : spacewalkReply(params),
    );
    const registrar = new Registrar({
      serverUrl: server.url,
      systemidPath: await systemidFile(),
      retryIntervalMs: 150,
      random: () => 1,
    });
    registrars.push(registrar);
    const failures: { error: Error; retryInMs: number; at: number }[] = [];
    registrar.on("failed", (f) => failures.push({ ...f, at: Date.now() }));
    const registered = new Promise<RegistrationReply>((resolve) =>
      registrar.once("registered", resolve),
    );
    registrar.start();
    const reply = await registered;
    expect(reply.clientName).toBe("0123456789abcdef");
    expect(failures).toHaveLength(2);
    expect(failures[0]!.error).toBeInstanceOf(RegistrationFault);
    expect(failures[0]!.retryInMs).toBe(225); // 150 + 50% jitter with random() = 1
    expect(failures[1]!.at - failures[0]!.at).toBeGreaterThanOrEqual(220);
    expect(server.calls).toHaveLength(3);
    expect(registrar.registration).toBe(reply);
  });

  it("logs Spacewalk's {} (no jabber_server in its rhn.conf) as a clear error and retries", async () => {
    // Spacewalk's register_osad returns {} and writes nothing when push is not configured there.
    const server = await startXmlRpcServer((params, call) =>
      call <= 2 ? { value: {} } : spacewalkReply(params),
    );
    const logPath = join(await tempDir(), "client.log");
    const log = createLogger({ name: "osad2-client", file: logPath });
    const registrar = new Registrar({
      serverUrl: server.url,
      systemidPath: await systemidFile(),
      retryIntervalMs: 100,
      random: () => 0,
      logger: log.logger,
    });
    registrars.push(registrar);
    const failures: Error[] = [];
    registrar.on("failed", (f) => failures.push(f.error));
    const registered = new Promise<RegistrationReply>((resolve) =>
      registrar.once("registered", resolve),
    );
    registrar.start();
    expect((await registered).clientName).toBe("0123456789abcdef");
    expect(server.calls).toHaveLength(3);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toBeInstanceOf(RegistrationError);
    expect(failures[0]).toMatchObject({ reason: "bad-reply" });
    expect(failures[0]?.message).toMatch(
      /empty struct: Spacewalk answers \{\} when its rhn\.conf sets no jabber_server/,
    );
    log.flush();
    const lines = (await readFile(logPath, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { msg: string; error?: string });
    const failed = lines.filter((line) => line.msg === "registration failed; will retry");
    expect(failed).toHaveLength(2);
    expect(failed[0]?.error).toMatch(/no jabber_server.*point server_url at the osad2 server/);
  });

  it("registers again when the systemid file is rewritten or replaced, not on a touch", async () => {
    let name = 0;
    const server = await startXmlRpcServer((params) =>
      spacewalkReply(params, { "client-name": `name${++name}` }),
    );
    const systemidPath = await systemidFile(1);
    const registrar = new Registrar({ serverUrl: server.url, systemidPath, retryIntervalMs: 100 });
    registrars.push(registrar);
    const names: string[] = [];
    const next = (): Promise<string> =>
      new Promise((resolve) =>
        registrar.once("registered", (r) => {
          names.push(r.clientName);
          resolve(r.clientName);
        }),
      );
    let registered = next();
    registrar.start();
    expect(await registered).toBe("name1");

    // same content written again: no re-registration
    await writeFile(systemidPath, systemIdXml(1));
    registered = next();
    // rhnreg_ks writes a new systemid (here: replaced by rename, as careful tools do)
    await writeFile(`${systemidPath}.new`, systemIdXml(2));
    await rename(`${systemidPath}.new`, systemidPath);
    expect(await registered).toBe("name2");
    expect(server.calls.at(-1)?.[0]).toBe(systemIdXml(2));

    registered = next();
    await writeFile(systemidPath, systemIdXml(3));
    expect(await registered).toBe("name3");
    expect(names).toEqual(["name1", "name2", "name3"]);
    expect(server.calls).toHaveLength(3);
  });
});
