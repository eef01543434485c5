// register_osad of the real osad2-server process, answered as Spacewalk 2.11 answers it: fault
// codes negative on the wire (rhnFault.getxml() negates), 1 and -1 for bad calls, ID-<digits>
// looked up by number, a check-in in rhnServerInfo, dispatchers [] with no rhnPushDispatcher.
import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import xmlrpc from "xmlrpc";
import { Deployment } from "@osad2/testkit";

let d: Deployment;

beforeAll(async () => {
  d = await Deployment.create({ database: "postgres" });
  await d.init();
  await d.addSystem("web01");
  await d.startServer();
});
afterAll(async () => {
  await d?.dispose();
});

type Outcome =
  | { readonly value: Record<string, unknown> }
  | { readonly fault: { faultCode: number; faultString: string } };

function call(method: string, params: unknown[]): Promise<Outcome> {
  const client = xmlrpc.createClient({ url: d.registrationUrl });
  return new Promise((resolve, reject) =>
    client.methodCall(method, params, (error: unknown, value: unknown) => {
      const fault = error as { faultCode?: number; faultString?: string } | null;
      if (fault !== null && typeof fault?.faultCode === "number")
        resolve({ fault: { faultCode: fault.faultCode, faultString: fault.faultString ?? "" } });
      else if (error) reject(error as Error);
      else resolve({ value: value as Record<string, unknown> });
    }),
  );
}

const faultCode = (outcome: Outcome): number | undefined =>
  "fault" in outcome ? outcome.fault.faultCode : undefined;

async function systemid(): Promise<{ xml: string; serverId: number }> {
  const system = d.systems.get("web01");
  if (system === undefined) throw new Error("no system");
  return { xml: await fs.readFile(system.systemidPath, "utf8"), serverId: system.serverId };
}

describe("register_osad as Spacewalk answers it (real server, PostgreSQL)", () => {
  it("answers a good systemid with dispatchers [] and records a check-in", async () => {
    const { xml, serverId } = await systemid();
    const before = Date.now();
    const first = await call("registration.register_osad", [xml, {}]);
    const second = await call("registration.register_osad", [xml, {}]);
    expect("value" in first && first.value.dispatchers).toEqual([]);
    expect("value" in second && second.value["client-name"]).toMatch(/^[0-9a-f]{16}$/);
    const rows = (await d.pg?.query(
      `SELECT checkin, checkin_counter FROM rhnserverinfo WHERE server_id = ${serverId}`,
    )) as { checkin: Date; checkin_counter: string }[];
    expect(Number(rows[0]?.checkin_counter)).toBe(2);
    expect(rows[0]?.checkin.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it("sends -9 with Spacewalk's text, -28, -160, 1 and -1 as Spacewalk does", async () => {
    const { xml, serverId } = await systemid();
    const forged = xml.replace(/<name>checksum<\/name>\n<value><string>./, (m) =>
      m.endsWith("0") ? `${m.slice(0, -1)}1` : `${m.slice(0, -1)}0`,
    );
    const invalid = await call("registration.register_osad", [forged, {}]);
    expect(faultCode(invalid)).toBe(-9);
    expect("fault" in invalid && invalid.fault.faultString).toMatch(
      /^\nError Message:\n {4}Please run rhn_register as root on this client\nError Class Code: 9\n/,
    );
    const anonymous = xml.replace("<string>REAL</string>", "<string>ANONYMOUS</string>");
    expect(faultCode(await call("registration.register_osad", [anonymous, {}]))).toBe(-28);
    expect(faultCode(await call("registration.register_osad_jid", [xml, {}]))).toBe(-160);
    expect(faultCode(await call("registration.register_osad", []))).toBe(1);
    expect(faultCode(await call("registration.register_osad", [42, {}]))).toBe(-9);
    expect(faultCode(await call("registration.no_such_method", [xml]))).toBe(-1);
    expect(xml).toContain(`ID-${serverId}`);
  });
});
