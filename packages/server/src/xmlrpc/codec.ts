import { createRequire } from "node:module";
import { PassThrough, type Readable } from "node:stream";
import { XmlRpcDecodeError } from "./faults.js";

// The xmlrpc package's own serializer and deserializer modules; @types/xmlrpc does not describe them.
interface SaxNode {
  readonly name: string;
}
interface SaxStream {
  on(event: "opentag", listener: (node: SaxNode) => void): void;
  on(event: "closetag", listener: (name: string) => void): void;
}
interface DeserializerInstance {
  /** sax's stream; the limits below listen to it. */
  readonly parser: SaxStream;
  /** Reports an error to the callback once and ignores the rest of the document. */
  onError(error: Error): void;
  deserializeMethodCall(
    stream: Readable,
    callback: (error: Error | null | undefined, methodName?: string, params?: unknown[]) => void,
  ): void;
  deserializeMethodResponse(
    stream: Readable,
    callback: (error: Error | null | undefined, result?: unknown) => void,
  ): void;
}
interface SerializerModule {
  serializeMethodCall(method: string, params?: unknown[], encoding?: string): string;
  serializeMethodResponse(result: unknown): string;
  serializeFault(fault: unknown): string;
}
const require = createRequire(import.meta.url);
const Deserializer = require("xmlrpc/lib/deserializer") as new (
  encoding?: string,
) => DeserializerInstance;
const Serializer = require("xmlrpc/lib/serializer") as SerializerModule;

/**
 * XML-RPC values as osad2 handles them. Parsing and serialising reuse the xmlrpc package's
 * sax-based deserializer and xmlbuilder-based serializer; osad2 only owns the HTTP layer.
 */
export type XmlRpcValue =
  string | number | boolean | Date | Buffer | null | readonly XmlRpcValue[] | XmlRpcStruct;
export interface XmlRpcStruct {
  readonly [member: string]: XmlRpcValue;
}

/** Deepest nesting of arrays and structs in one document (register_osad needs 1). */
export const MAX_VALUE_DEPTH = 32;
/** Most XML elements in one document (a register_osad call has about 20). */
export const MAX_ELEMENTS = 10_000;
/** Deepest XML element nesting: each value level takes up to 3 elements (value, struct, member). */
const MAX_ELEMENT_DEPTH = MAX_VALUE_DEPTH * 3 + 8;
/** Characters XML 1.0 forbids (NUL and most C0 controls, U+FFFE, U+FFFF, lone surrogates). */
const INVALID_XML_CHARACTER =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INVALID_XML_CHARACTERS = new RegExp(INVALID_XML_CHARACTER.source, "g");

/** Turns a complete request body into the method name and parameters. Rejects on anything else. */
export function parseMethodCall(
  body: Buffer | string,
): Promise<{ methodName: string; params: XmlRpcValue[] }> {
  const text = typeof body === "string" ? body : body.toString("utf8");
  return new Promise((resolve, reject) => {
    let settled = false;
    const deserializer = newDeserializer(text, reject);
    if (deserializer === undefined) return;
    const stream = new PassThrough();
    deserializer.deserializeMethodCall(stream, (error, methodName, params) => {
      // The deserializer can report more than once (an error, then the end of the stream).
      if (settled) return;
      settled = true;
      if (error) reject(asDecodeError(error));
      else if (typeof methodName !== "string" || methodName === "")
        reject(new XmlRpcDecodeError("not-a-call", "the method call has no method name"));
      else resolve({ methodName, params: (params ?? []).map(sanitize) });
    });
    stream.end(text);
  });
}

/** Parses an XML-RPC `<params>` document holding one value (Spacewalk's systemid file). */
export function parseParamsDocument(text: string): Promise<XmlRpcValue> {
  const body = text
    .trim()
    .replace(/^<\?xml[^>]*\?>/i, "")
    .trim();
  if (!/^<params[\s>]/i.test(body) || !/<\/params>$/i.test(body)) {
    return Promise.reject(new XmlRpcDecodeError("malformed", "not an XML-RPC <params> document"));
  }
  // The deserializer understands method responses; a <params> document is one without the wrapper.
  const document = `<?xml version="1.0"?><methodResponse>${body}</methodResponse>`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const deserializer = newDeserializer(document, reject);
    if (deserializer === undefined) return;
    const stream = new PassThrough();
    deserializer.deserializeMethodResponse(stream, (error, result) => {
      if (settled) return;
      settled = true;
      if (error) reject(asDecodeError(error));
      else resolve(sanitize(result));
    });
    stream.end(document);
  });
}

/**
 * A deserializer for `text` that gives up (with an XmlRpcDecodeError) past the limits, or
 * undefined after rejecting a text with a character XML forbids.
 */
function newDeserializer(
  text: string,
  reject: (error: XmlRpcDecodeError) => void,
): DeserializerInstance | undefined {
  const bad = INVALID_XML_CHARACTER.exec(text);
  if (bad !== null) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, "0");
    reject(
      new XmlRpcDecodeError(
        "character",
        `character U+${code.toUpperCase()} at offset ${bad.index} is not allowed in XML`,
      ),
    );
    return undefined;
  }
  const deserializer = new Deserializer();
  enforceLimits(deserializer);
  return deserializer;
}

/** Counts elements and nesting as sax reports them, so no document can grow past the limits. */
function enforceLimits(deserializer: DeserializerInstance): void {
  let elements = 0;
  let depth = 0;
  let valueDepth = 0;
  let failed = false;
  const fail = (detail: string): void => {
    if (failed) return;
    failed = true;
    deserializer.onError(new XmlRpcDecodeError("limit", detail));
  };
  deserializer.parser.on("opentag", (node) => {
    elements += 1;
    depth += 1;
    if (node.name === "ARRAY" || node.name === "STRUCT") valueDepth += 1;
    if (elements > MAX_ELEMENTS)
      fail(
        `the document has more than ${MAX_ELEMENTS} elements; this endpoint accepts at most that`,
      );
    else if (valueDepth > MAX_VALUE_DEPTH)
      fail(
        `arrays and structs are nested more than ${MAX_VALUE_DEPTH} deep; this endpoint accepts at most that`,
      );
    else if (depth > MAX_ELEMENT_DEPTH)
      fail(
        `elements are nested more than ${MAX_ELEMENT_DEPTH} deep; this endpoint accepts at most that`,
      );
  });
  deserializer.parser.on("closetag", (name) => {
    depth -= 1;
    if (name === "ARRAY" || name === "STRUCT") valueDepth -= 1;
  });
}

function asDecodeError(error: Error): XmlRpcDecodeError {
  if (error instanceof XmlRpcDecodeError) return error;
  // The deserializer's own wording: "Not a method call", "Method call did not contain a method name".
  const reason = /method call/i.test(error.message) ? "not-a-call" : "malformed";
  return new XmlRpcDecodeError(reason, error.message.split("\n")[0] ?? "", { cause: error });
}

/** Replaces characters XML cannot carry, so any text (a peer's method name, a NUL) fits in a fault. */
export function xmlSafeText(text: string): string {
  return text.replace(INVALID_XML_CHARACTERS, "\uFFFD");
}

export function serializeResponse(value: XmlRpcValue): string {
  return Serializer.serializeMethodResponse(value);
}

/** Fault XML; characters XML cannot carry become U+FFFD, so this never throws. */
export function serializeFault(faultCode: number, faultString: string): string {
  return Serializer.serializeFault({ faultCode, faultString: xmlSafeText(faultString) });
}

export function serializeCall(methodName: string, params: readonly XmlRpcValue[]): string {
  return Serializer.serializeMethodCall(methodName, [...params]);
}

/** True for a struct (not an array, date, buffer or null). */
export function isStruct(value: XmlRpcValue | undefined): value is XmlRpcStruct {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !Buffer.isBuffer(value)
  );
}

/**
 * Copies parsed values into fresh plain objects with own members only. The deserializer builds
 * structs by assignment, so a member named `__proto__` would otherwise replace the prototype
 * and smuggle in inherited members. An explicit stack instead of recursion: no input, however
 * deep, can exhaust the call stack here.
 */
function sanitize(root: unknown): XmlRpcValue {
  const top: { value: XmlRpcValue } = { value: null };
  const work: CopyTask[] = [{ source: root, store: (value) => (top.value = value) }];
  for (let task = work.pop(); task !== undefined; task = work.pop()) {
    const { source, store } = task;
    if (Array.isArray(source)) {
      const out: XmlRpcValue[] = new Array<XmlRpcValue>(source.length).fill(null);
      store(out);
      source.forEach((item: unknown, index) =>
        work.push({ source: item, store: (value) => (out[index] = value) }),
      );
    } else if (isPlainRecord(source)) {
      const out: Record<string, XmlRpcValue> = {};
      store(out);
      for (const key of Object.keys(source)) {
        if (key === "__proto__") continue;
        work.push({ source: source[key], store: (value) => (out[key] = value) });
      }
    } else {
      store(scalar(source));
    }
  }
  return top.value;
}

interface CopyTask {
  readonly source: unknown;
  readonly store: (value: XmlRpcValue) => void;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Date) &&
    !Buffer.isBuffer(value)
  );
}

function scalar(value: unknown): XmlRpcValue {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  return null;
}
