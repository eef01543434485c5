import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type SpacewalkStore } from "../src/db/index.js";
import { createSystem } from "../src/testing/index.js";
import {
  parseSystemId,
  RegistrationFault,
  registerOsad,
  registerOsadJid,
  signSystemId,
  verifySystemId,
} from "../src/registration/index.js";
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from "@osad2/test-helpers";

const SHA_SECRET = "5f2b7c0e9a1d4e8f6b3a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"; // 64 chars
const MD5_SECRET = "0123456789abcdef0123456789abcdef"; // 32 chars

/**
 * A systemid laid out as Python's xmlrpclib writes /etc/sysconfig/rhn/systemid, built by hand
 * (not with signSystemId) so the implementation cannot agree with itself by accident.
 */
function handBuiltSystemId(
  values: Record<string, string>,
  fields: string[],
  checksum: string,
): string {
  const members = Object.entries(values)
    .map(
      ([name, value]) =>
        `<member>\n<name>${name}</name>\n<value><string>${value}</string></value>\n</member>`,
    )
    .join("\n");
  const fieldValues = fields.map((f) => `<value><string>${f}</string></value>`).join("\n");
  return `<?xml version="1.0"?>
<params>
<param>
<value><struct>
${members}
<member>
<name>checksum</name>
<value><string>${checksum}</string></value>
</member>
<member>
<name>fields</name>
<value><array><data>
${fieldValues}
</data></array></value>
</member>
</struct></value>
</param>
</params>
`;
}

/** Spacewalk's algorithm written out directly with node:crypto. */
function independentChecksum(
  algorithm: "sha256" | "md5",
  secret: string,
  values: Record<string, string>,
  fields: string[],
) {
  const hash = createHash(algorithm);
  hash.update(secret);
  for (const f of fields) hash.update(values[f] ?? "");
  for (const f of fields) hash.update(f);
  return hash.digest("hex");
}

const VALUES = {
  username: "admin",
  operating_system: "redhat-release-server",
  os_release: "7Server",
  architecture: "x86_64-redhat-linux",
  system_id: "ID-1000010000",
  type: "REAL",
  description: "Initial Registration Parameters:\nOS: redhat-release-server",
  profile_name: "web01.example.com",
};
const FIELDS = ["system_id", "os_release", "operating_system", "architecture", "username", "type"];

const lookupFor = (secret: string) => async (id: string) =>
  id === "ID-1000010000" ? { secret, id } : undefined;

async function faultOf(promise: Promise<unknown>): Promise<RegistrationFault> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistrationFault);
  return error as RegistrationFault;
}

describe("systemid verification", () => {
  it("accepts a hand-built systemid with an independently computed sha256 checksum", async () => {
    const checksum = independentChecksum("sha256", SHA_SECRET, VALUES, FIELDS);
    const xml = handBuiltSystemId(VALUES, FIELDS, checksum);
    const { system, systemId } = await verifySystemId(xml, lookupFor(SHA_SECRET));
    expect(system.id).toBe("ID-1000010000");
    expect(systemId.fields).toEqual(FIELDS);
    expect(systemId.document.profile_name).toBe("web01.example.com");
  });

  it("accepts md5 checksums for 32-character secrets", async () => {
    const checksum = independentChecksum("md5", MD5_SECRET, VALUES, FIELDS);
    expect(checksum).toHaveLength(32);
    await verifySystemId(handBuiltSystemId(VALUES, FIELDS, checksum), lookupFor(MD5_SECRET));
  });

  it("accepts untyped <value>text</value> members, as other XML-RPC writers produce", async () => {
    const checksum = independentChecksum("sha256", SHA_SECRET, VALUES, FIELDS);
    const xml = handBuiltSystemId(VALUES, FIELDS, checksum).replace(
      /<value><string>([^<]*)<\/string><\/value>/g,
      "<value>$1</value>",
    );
    expect(xml).not.toContain("<string>");
    await verifySystemId(xml, lookupFor(SHA_SECRET));
  });

  it("signSystemId produces what the independent computation expects", async () => {
    const xml = signSystemId({ ...VALUES }, SHA_SECRET);
    const parsed = await parseSystemId(xml);
    const values = Object.fromEntries(
      Object.entries(parsed.document).map(([k, v]) => [k, String(v)]),
    );
    expect(parsed.checksum).toBe(
      independentChecksum("sha256", SHA_SECRET, values, [...parsed.fields]),
    );
    expect(parsed.document.system_id).toBe("ID-1000010000");
    expect(parsed.document.description).toBe(VALUES.description);
    await verifySystemId(xml, lookupFor(SHA_SECRET));
  });

  it("escapes markup in values so documents stay parseable", async () => {
    const xml = signSystemId({ ...VALUES, profile_name: "a<b>&c" }, SHA_SECRET);
    const { systemId } = await verifySystemId(xml, lookupFor(SHA_SECRET));
    expect(systemId.document.profile_name).toBe("a<b>&c");
  });

  it("refuses a forged checksum, a changed covered value, the wrong secret and a shortened field list", async () => {
    const checksum = independentChecksum("sha256", SHA_SECRET, VALUES, FIELDS);
    const forged = handBuiltSystemId(
      VALUES,
      FIELDS,
      checksum.replace(/^./, (c) => (c === "0" ? "1" : "0")),
    );
    expect(await faultOf(verifySystemId(forged, lookupFor(SHA_SECRET)))).toMatchObject({
      faultCode: -9,
      reason: "bad-checksum",
    });

    const changed = handBuiltSystemId({ ...VALUES, username: "mallory" }, FIELDS, checksum);
    expect((await faultOf(verifySystemId(changed, lookupFor(SHA_SECRET)))).reason).toBe(
      "bad-checksum",
    );

    const otherSecret = "f".repeat(64);
    expect(
      (
        await faultOf(
          verifySystemId(handBuiltSystemId(VALUES, FIELDS, checksum), lookupFor(otherSecret)),
        )
      ).reason,
    ).toBe("bad-checksum");

    const fewer = handBuiltSystemId(VALUES, FIELDS.slice(0, 2), checksum);
    expect((await faultOf(verifySystemId(fewer, lookupFor(SHA_SECRET)))).reason).toBe(
      "bad-checksum",
    );
  });

  it("refuses ANONYMOUS systemids with Spacewalk's fault -28, whatever the case", async () => {
    const values = { ...VALUES, type: "anonymous" };
    const xml = handBuiltSystemId(
      values,
      FIELDS,
      independentChecksum("sha256", SHA_SECRET, values, FIELDS),
    );
    const fault = await faultOf(verifySystemId(xml, lookupFor(SHA_SECRET)));
    expect(fault).toMatchObject({ faultCode: -28, reason: "anonymous" });
    expect(fault.message).toMatch(/anonymous/);
  });

  it("refuses unknown systems and malformed documents with fault -9 and a clear message", async () => {
    const values = { ...VALUES, system_id: "ID-42" };
    const unknown = handBuiltSystemId(
      values,
      FIELDS,
      independentChecksum("sha256", SHA_SECRET, values, FIELDS),
    );
    const fault = await faultOf(verifySystemId(unknown, lookupFor(SHA_SECRET)));
    expect(fault).toMatchObject({ faultCode: -9, reason: "unknown-system" });
    expect(fault.message).toMatch(/ID-42 is not registered/);
    // Spacewalk's rhnFault.getxml() layout, which its client libraries parse ("Error Class Code: 9").
    expect(fault.message.split("\n").slice(0, 5)).toEqual([
      "",
      "Error Message:",
      "    Please run rhn_register as root on this client",
      "Error Class Code: 9",
      "Error Class Info: Invalid System Credentials.",
    ]);
    expect(fault.message).toMatch(/^Explanation: system ID-42 is not registered/m);
    expect(fault.detail).toMatch(/^system ID-42 is not registered/);

    for (const [xml, pattern] of [
      ["", /not an XML-RPC params document/],
      ["not xml at all", /not an XML-RPC params document/],
      [
        "<params><param><value><string>x</string></value></param></params>",
        /does not hold a struct/,
      ],
      [handBuiltSystemId(VALUES, ["nosuchfield"], "00"), /fields lists "nosuchfield"/],
      [
        handBuiltSystemId(VALUES, FIELDS, "x").replace(
          /<member>\n<name>system_id[\s\S]*?<\/member>/,
          "",
        ),
        /no system_id/,
      ],
      ["<params>" + "x".repeat(70_000) + "</params>", /larger than/],
    ] as const) {
      const f = await faultOf(verifySystemId(xml, lookupFor(SHA_SECRET)));
      expect(f.faultCode).toBe(-9);
      expect(f.reason).toBe("malformed-systemid");
      expect(f.message).toMatch(pattern);
    }
  });
});

describe.each(DATABASE_KINDS)("register_osad on %s", (kind) => {
  let db: TestDatabase;
  let store: SpacewalkStore;
  const extras = {
    publicHost: "spacewalk.example.com",
    publisherEndpoint: "tcp://spacewalk.example.com:5555",
    listenerEndpoint: "tcp://spacewalk.example.com:5556",
    serverPublicKey: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url, { schema: db.schema });
    await store.prepare();
  });

  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it("registers a push client and answers with Spacewalk's reply plus osad2's endpoints", async () => {
    const { system, systemIdXml } = await createSystem(store, { name: "web01" });
    const before = Math.floor(Date.now() / 1000);
    const reply = await registerOsad(
      store,
      systemIdXml,
      { "client-timestamp": before, extra: "echoed" },
      extras,
    );
    expect(reply["client-name"]).toMatch(/^[0-9a-f]{16}$/);
    expect(reply["shared-key"]).toMatch(/^[0-9a-f]{40}$/);
    expect(reply["server-timestamp"]).toBeGreaterThanOrEqual(before);
    expect(reply["server-timestamp"]).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(reply).toMatchObject({
      "client-timestamp": before,
      extra: "echoed",
      "jabber-server": "spacewalk.example.com",
      // Spacewalk lists rhnPushDispatcher's jabber ids: none here.
      dispatchers: [],
      "publisher-endpoint": extras.publisherEndpoint,
      "listener-endpoint": extras.listenerEndpoint,
      "server-public-key": extras.serverPublicKey,
    });
    const client = await store.findClient(reply["client-name"]);
    expect(client).toMatchObject({
      serverId: system.id,
      state: "offline",
      lastPingTime: null,
      nextActionTime: null,
    });
    const rows = await db.query(
      `SELECT shared_key FROM rhnpushclient WHERE name = '${reply["client-name"]}'`,
    );
    expect(rows).toEqual([{ shared_key: reply["shared-key"] }]);

    // Every call rotates the name and key, on the same row.
    const again = await registerOsad(store, systemIdXml, {}, extras);
    expect(again["client-name"]).not.toBe(reply["client-name"]);
    expect(again["shared-key"]).not.toBe(reply["shared-key"]);
    expect(await store.findClient(reply["client-name"])).toBeUndefined();
    const forSystem = await db.query(
      `SELECT count(*) AS n FROM rhnpushclient WHERE server_id = ${system.id}`,
    );
    expect(Number(forSystem[0]?.n)).toBe(1);
  });

  it("lists rhnPushDispatcher jabber ids as dispatchers when there are any", async () => {
    const { systemIdXml } = await createSystem(store, { name: "web02" });
    await db.query(
      "INSERT INTO rhnpushdispatcher (id, jabber_id, hostname) VALUES (1, 'rhn-dispatcher-sat@spacewalk.example.com/superclient', 'spacewalk.example.com')",
    );
    try {
      const reply = await registerOsad(store, systemIdXml, {}, extras);
      expect(reply.dispatchers).toEqual(["rhn-dispatcher-sat@spacewalk.example.com/superclient"]);
    } finally {
      await db.query("DELETE FROM rhnpushdispatcher");
    }
  });

  it("finds `ID-<digits>` by number, leading zeros and all, as Spacewalk does", async () => {
    const secret = "a".repeat(64);
    const { system } = await createSystem(store, { name: "zeros", secret });
    const values = { ...VALUES, system_id: `ID-0${system.id}` };
    const xml = handBuiltSystemId(
      values,
      FIELDS,
      independentChecksum("sha256", secret, values, FIELDS),
    );
    const reply = await registerOsad(store, xml, {}, extras);
    expect((await store.findClient(reply["client-name"]))?.serverId).toBe(system.id);
    expect(await store.findSystem(`ID-00${system.id}`)).toEqual(system);
    expect(await store.findSystem(system.digitalServerId)).toEqual(system);
    // Not of the ID-<digits> form: looked up by digital_server_id, which no row has.
    expect(await store.findSystem(`ID-${system.id}x`)).toBeUndefined();
    expect(await store.findSystem(`${system.id}`)).toBeUndefined();
  });

  it("is a check-in: rhnServerInfo.checkin = now and checkin_counter + 1 per authenticated call", async () => {
    const { system, systemIdXml } = await createSystem(store, { name: "checkin" });
    const read = async () => {
      const [row] = await db.query(
        `SELECT checkin, checkin_counter FROM rhnserverinfo WHERE server_id = ${system.id}`,
      );
      const checkin = row?.checkin;
      const at = checkin instanceof Date ? checkin : new Date(String(checkin));
      return { at, counter: Number(row?.checkin_counter) };
    };
    await db.query(
      `UPDATE rhnserverinfo SET checkin = '${kind === "postgres" ? "2020-01-01 00:00:00+00" : "2020-01-01T00:00:00.000Z"}' WHERE server_id = ${system.id}`,
    );
    expect(await read()).toEqual({ at: new Date("2020-01-01T00:00:00Z"), counter: 0 });
    const before = Date.now();
    await registerOsad(store, systemIdXml, {}, extras);
    const first = await read();
    expect(first.counter).toBe(1);
    expect(first.at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    await registerOsadJid(store, systemIdXml, { "jabber-id": "osad-checkin@spacewalk/osad" });
    expect((await read()).counter).toBe(2);
    // A refused call is no check-in.
    const forged = systemIdXml.replace("<string>admin<", "<string>root<");
    await faultOf(registerOsad(store, forged, {}, extras));
    expect((await read()).counter).toBe(2);
  });

  it("writes nothing for a forged systemid", async () => {
    const { systemIdXml } = await createSystem(store, { name: "victim" });
    const before = await db.count("rhnpushclient");
    const forged = systemIdXml.replace(
      /<name>username<\/name>\n<value><string>admin/,
      "<name>username</name>\n<value><string>root",
    );
    expect(forged).not.toBe(systemIdXml);
    expect((await faultOf(registerOsad(store, forged, {}, extras))).reason).toBe("bad-checksum");
    expect(await db.count("rhnpushclient")).toBe(before);
  });

  it("records the jabber id with register_osad_jid and refuses a missing one with fault -160", async () => {
    const { system, systemIdXml } = await createSystem(store, { name: "jid" });
    await registerOsad(store, systemIdXml, {}, extras);
    expect(
      await registerOsadJid(store, systemIdXml, { "jabber-id": "osad-abc@spacewalk/osad" }),
    ).toEqual({});
    const rows = await db.query(
      `SELECT jabber_id FROM rhnpushclient WHERE server_id = ${system.id}`,
    );
    expect(rows).toEqual([{ jabber_id: "osad-abc@spacewalk/osad" }]);
    const missing = await faultOf(registerOsadJid(store, systemIdXml, {}));
    expect(missing).toMatchObject({ faultCode: -160 });
    expect(missing.message).toContain(
      "Error Class Code: 160\nError Class Info: Required argument is missing",
    );
    expect(await faultOf(registerOsadJid(store, systemIdXml, { "jabber-id": 5 }))).toMatchObject({
      faultCode: -160,
    });
  });
});
