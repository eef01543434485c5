// register_osad through the helper process osad2-client run uses (dist/register-child.js):
// what comes back is what the in-process call gives, typed errors included, and a helper that
// misbehaves is reported, never waited on for ever.
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  RegistrationError,
  RegistrationFault,
  SubprocessRegistration,
  registerOsad,
} from "../src/index.js";
import { assertBuilt } from "./cli-process.js";
import { cleanupTempDirs, tempDir } from "./helpers.js";
import {
  closeXmlRpcServers,
  makeTlsFiles,
  startXmlRpcServer,
  systemidFile,
} from "./xmlrpc-server.js";

const CHILD = fileURLToPath(new URL("../dist/register-child.js", import.meta.url));
const helper = new SubprocessRegistration({ script: CHILD });

beforeAll(assertBuilt);
afterEach(async () => {
  await closeXmlRpcServers();
  await cleanupTempDirs();
});

const reply = (params: unknown[]): { value: unknown } => ({
  value: {
    ...(params[1] as object),
    "client-name": "0123456789abcdef",
    "server-timestamp": 1_700_000_000,
    "jabber-server": "127.0.0.1",
    dispatchers: ["osad2"],
    "listener-endpoints": ["tcp://127.0.0.1:7002"],
  },
});

/** A stand-in helper: a script that behaves as given. */
async function fakeHelper(body: string, graceMs = 200): Promise<SubprocessRegistration> {
  const script = join(await tempDir(), "helper.mjs");
  await writeFile(script, body);
  return new SubprocessRegistration({ script, graceMs });
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("resolved, expected a rejection");
    },
    (error: unknown) => error as Error,
  );
}

describe("SubprocessRegistration", () => {
  it("gives the reply the in-process call gives, over https with the configured CA", async () => {
    const dir = await tempDir();
    const tls = await makeTlsFiles(dir);
    const server = await startXmlRpcServer(reply, { key: tls.key, cert: tls.cert });
    const options = {
      serverUrl: server.url,
      caCert: tls.caPath,
      systemidPath: await systemidFile(),
    };
    const viaHelper = await helper.register(options);
    const inProcess = await registerOsad(options);
    expect(server.calls).toHaveLength(2);
    const { raw: rawHelper, ...typedHelper } = viaHelper;
    const { raw: rawInProcess, ...typedInProcess } = inProcess;
    expect(typedHelper).toEqual(typedInProcess);
    expect(typedHelper.listenerEndpoints).toEqual(["tcp://127.0.0.1:7002"]);
    expect(Object.keys(rawHelper).sort()).toEqual(Object.keys(rawInProcess).sort());
    expect(rawHelper["client-timestamp"]).toBe(
      (server.calls[0]![1] as Record<string, unknown>)["client-timestamp"],
    );
  });

  it("passes faults and registration errors back typed, with the in-process messages", async () => {
    const server = await startXmlRpcServer(() => ({
      fault: { faultCode: -9, faultString: "Invalid System Credentials" },
    }));
    const options = { serverUrl: server.url, systemidPath: await systemidFile() };
    const fault = await rejection(helper.register(options));
    expect(fault).toBeInstanceOf(RegistrationFault);
    expect(fault).toMatchObject({ faultCode: -9, faultString: "Invalid System Credentials" });
    expect(fault.message).toBe((await rejection(registerOsad(options))).message);

    const missing = { serverUrl: server.url, systemidPath: join(await tempDir(), "none") };
    const noSystemid = await rejection(helper.register(missing));
    expect(noSystemid).toBeInstanceOf(RegistrationError);
    expect(noSystemid).toMatchObject({ reason: "systemid", url: missing.systemidPath });
    expect(noSystemid.message).toBe((await rejection(registerOsad(missing))).message);

    const hanging = await startXmlRpcServer(() => ({ hang: true }));
    const slow = { serverUrl: hanging.url, systemidPath: await systemidFile(), timeoutMs: 300 };
    const timedOut = await rejection(helper.register(slow));
    expect(timedOut).toMatchObject({ name: "RegistrationError", reason: "timeout" });
    expect(timedOut.message).toContain("got no answer within 0.3 s");
  });

  it("validates the helper's reply again: a struct the call would refuse is refused", async () => {
    const liar = await fakeHelper(
      `process.stdout.write(JSON.stringify({ ok: true, raw: { "client-name": "../../etc" } }));`,
    );
    const error = await rejection(
      liar.register({ serverUrl: "http://127.0.0.1:9/XMLRPC", systemidPath: "/nonexistent" }),
    );
    expect(error).toMatchObject({ name: "RegistrationError", reason: "bad-reply" });
    expect(error.message).toContain('has no valid client-name (got "../../etc")');
  });

  it("reports a helper that is missing, crashes, babbles or never answers", async () => {
    const options = { serverUrl: "http://127.0.0.1:9/XMLRPC", systemidPath: "/nonexistent" };
    const missingScript = join(await tempDir(), "gone.js");
    const absent = await rejection(
      new SubprocessRegistration({ script: missingScript }).register(options),
    );
    expect(absent).toMatchObject({ name: "RegistrationError", reason: "subprocess" });
    expect(absent.message).toMatch(
      new RegExp(
        `^registration helper ${missingScript} exited with code 1: Error: Cannot find module '${missingScript}'.* — reinstall osad2-client`,
      ),
    );

    const noNode = join(await tempDir(), "not-node");
    await writeFile(noNode, "");
    await chmod(noNode, 0o644);
    const unstartable = await rejection(
      new SubprocessRegistration({ script: CHILD, execPath: noNode }).register(options),
    );
    expect(unstartable.message).toContain("cannot be started (");
    expect(unstartable.message).toContain("EACCES");

    const crash = await fakeHelper(`process.stderr.write("boom\\n"); process.exit(3);`);
    expect((await rejection(crash.register(options))).message).toContain(
      "exited with code 3: boom",
    );

    const babble = await fakeHelper(`process.stdout.write("hello");`);
    expect((await rejection(babble.register(options))).message).toContain(
      "reported no readable result",
    );

    const silent = await fakeHelper(`setInterval(() => undefined, 1000);`);
    const started = Date.now();
    const stuck = await rejection(silent.register({ ...options, timeoutMs: 100 }));
    expect(stuck).toMatchObject({ name: "RegistrationError", reason: "timeout" });
    expect(stuck.message).toContain("its helper process was stopped");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
