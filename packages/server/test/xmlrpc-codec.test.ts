import { describe, expect, it } from "vitest";
import { caught } from "@osad2/test-helpers";
import {
  FAULT_INVALID_CHARACTER,
  FAULT_INVALID_REQUEST,
  FAULT_PARSE_ERROR,
  MAX_ELEMENTS,
  MAX_VALUE_DEPTH,
  XmlRpcDecodeError,
  parseMethodCall,
  parseParamsDocument,
  serializeFault,
} from "../src/xmlrpc/index.js";

const call = (value: string): string =>
  `<?xml version="1.0"?><methodCall><methodName>m</methodName><params><param><value>${value}</value></param></params></methodCall>`;
const nestedArrays = (depth: number): string =>
  "<array><data><value>".repeat(depth) + "<int>1</int>" + "</value></data></array>".repeat(depth);
const nestedStructs = (depth: number): string =>
  "<struct><member><name>a</name><value>".repeat(depth) +
  "<int>1</int>" +
  "</value></member></struct>".repeat(depth);

async function decodeError(body: string): Promise<XmlRpcDecodeError> {
  const error = await caught(() => parseMethodCall(body));
  expect(error).toBeInstanceOf(XmlRpcDecodeError);
  return error as XmlRpcDecodeError;
}

describe("XML-RPC decoding limits", () => {
  it("accepts values nested up to MAX_VALUE_DEPTH and refuses one level more", async () => {
    const ok = await parseMethodCall(call(nestedArrays(MAX_VALUE_DEPTH)));
    let value: unknown = ok.params[0];
    for (let level = 0; level < MAX_VALUE_DEPTH; level += 1) value = (value as unknown[])[0];
    expect(value).toBe(1);
    const error = await decodeError(call(nestedArrays(MAX_VALUE_DEPTH + 1)));
    expect(error).toMatchObject({ reason: "limit", faultCode: FAULT_INVALID_REQUEST });
    expect(error.message).toMatch(/nested more than 32 deep/);
  });

  it("refuses 3,000 nested arrays and 6,000 nested structs without exhausting the stack", async () => {
    for (const body of [call(nestedArrays(3000)), call(nestedStructs(6000))]) {
      expect(await decodeError(body)).toMatchObject({ reason: "limit" });
    }
  });

  it("refuses deeply nested unknown elements too", async () => {
    const body = call("<x>".repeat(5000) + "</x>".repeat(5000));
    expect(await decodeError(body)).toMatchObject({ reason: "limit" });
  });

  it("refuses a flat array of more than MAX_ELEMENTS elements", async () => {
    const items = (n: number) => "<value><int>1</int></value>".repeat(n);
    const within = await parseMethodCall(call(`<array><data>${items(1000)}</data></array>`));
    expect(within.params[0]).toHaveLength(1000);
    const error = await decodeError(call(`<array><data>${items(MAX_ELEMENTS)}</data></array>`));
    expect(error).toMatchObject({ reason: "limit" });
    expect(error.message).toMatch(/more than 10000 elements/);
  });

  it("refuses a NUL or another character XML forbids, naming it", async () => {
    const error = await decodeError(call("<string>a\u0000b</string>"));
    expect(error).toMatchObject({ reason: "character", faultCode: FAULT_INVALID_CHARACTER });
    expect(error.message).toMatch(/U\+0000/);
    expect(await decodeError(call("<string>\u001b</string>"))).toMatchObject({
      reason: "character",
    });
  });

  it("answers malformed XML and non-calls with their fault codes", async () => {
    expect(
      await decodeError("<methodCall><methodName>m</methodName><params><param><value><int>x</int>"),
    ).toMatchObject({ faultCode: FAULT_PARSE_ERROR });
    expect(
      await decodeError('<?xml version="1.0"?><methodResponse><params></params></methodResponse>'),
    ).toMatchObject({ reason: "not-a-call", faultCode: FAULT_INVALID_REQUEST });
  });

  it("applies the same limits to a systemid <params> document", async () => {
    const error = await caught(() =>
      parseParamsDocument(`<params><param><value>${nestedArrays(100)}</value></param></params>`),
    );
    expect(error).toMatchObject({ name: "XmlRpcDecodeError", reason: "limit" });
  });

  it("copies structs into plain objects: a __proto__ member smuggles nothing in", async () => {
    const { params } = await parseMethodCall(
      call(
        "<struct><member><name>__proto__</name><value><struct><member><name>admin</name><value><boolean>1</boolean></value></member></struct></value></member>" +
          "<member><name>a</name><value><array><data><value><string>x</string></value></data></array></value></member></struct>",
      ),
    );
    const struct = params[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(struct)).toBe(Object.prototype);
    expect(struct["admin"]).toBeUndefined();
    expect(struct).toEqual({ a: ["x"] });
  });
});

describe("serializeFault", () => {
  it("never throws on text XML cannot carry: forbidden characters become U+FFFD", async () => {
    const xml = serializeFault(-1, 'unknown method "a\u0000b"');
    expect(xml).toContain("a\uFFFDb");
  });
});
