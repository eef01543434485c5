// Hostile XML-RPC against the real server process: values nested thousands deep, a NUL byte and
// a huge flat array each get a fault (the landed build exited on the first two with a
// RangeError and answered the NUL with an empty HTTP 500); /healthz stays 200 and a valid
// register_osad still works after each.
import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import xmlrpc from "xmlrpc";
import { Deployment } from "@osad2/testkit";

let d: Deployment;

beforeAll(async () => {
  d = await Deployment.create({ database: "sqlite" });
  await d.init();
  await d.addSystem("good");
  await d.startServer();
});
afterAll(async () => {
  await d?.dispose();
});

const call = (value: string): string =>
  `<?xml version="1.0"?><methodCall><methodName>registration.register_osad</methodName><params><param><value>${value}</value></param></params></methodCall>`;

const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  [
    "3,000 nested arrays",
    call("<array><data><value>".repeat(3000) + "</value></data></array>".repeat(3000)),
  ],
  [
    "6,000 nested structs",
    call(
      "<struct><member><name>a</name><value>".repeat(6000) +
        "</value></member></struct>".repeat(6000),
    ),
  ],
  [
    "a NUL byte in the method name",
    call("<string>x</string>").replace("register_osad", "re\u0000g"),
  ],
  ["a NUL byte in a value", call("<string>ID-1\u0000</string>")],
  [
    "a flat array of 40,000 values (within the 1 MiB body limit)",
    call(`<array><data>${"<value><i4>1</i4></value>".repeat(40_000)}</data></array>`),
  ],
];

async function post(body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(d.registrationUrl, {
    method: "POST",
    headers: { "Content-Type": "text/xml" },
    body,
  });
  return { status: res.status, text: await res.text() };
}

async function healthz(): Promise<number> {
  return (await fetch(`http://127.0.0.1:${d.ports.metrics}/healthz`)).status;
}

async function registerOsad(): Promise<Record<string, unknown>> {
  const system = d.systems.get("good");
  if (system === undefined) throw new Error("no system");
  const systemid = await fs.readFile(system.systemidPath, "utf8");
  const client = xmlrpc.createClient({ url: d.registrationUrl });
  return new Promise((resolve, reject) =>
    client.methodCall(
      "registration.register_osad",
      [systemid, { "client-timestamp": Math.floor(Date.now() / 1000) }],
      (error: unknown, value: unknown) =>
        error ? reject(error as Error) : resolve(value as Record<string, unknown>),
    ),
  );
}

describe("hostile XML-RPC requests", () => {
  for (const [what, body] of HOSTILE) {
    it(`answers ${what} with a fault and keeps serving`, async () => {
      expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
      const { status, text } = await post(body);
      expect(status).toBe(200);
      expect(text).toMatch(/<fault>/);
      expect(text).toMatch(/<name>faultCode<\/name><value><int>-32[0-9]{3}<\/int>/);
      expect(d.server?.child.exitCode).toBeNull();
      expect(await healthz()).toBe(200);
      const reply = await registerOsad();
      expect(reply["client-name"]).toMatch(/^[0-9a-f]{16}$/);
    });
  }

  it("logs nothing fatal and stays the same process", () => {
    expect(d.server?.matching(/Maximum call stack|"level":60/)).toEqual([]);
  });
});
