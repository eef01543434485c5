import { createRequire } from "node:module";
import { PassThrough, type Readable } from "node:stream";

// The xmlrpc package's own serializer and deserializer modules; @types/xmlrpc does not describe them.
interface DeserializerInstance {
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

/** Turns a complete request body into the method name and parameters. Rejects on anything else. */
export function parseMethodCall(
  body: Buffer | string,
): Promise<{ methodName: string; params: XmlRpcValue[] }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const stream = new PassThrough();
    new Deserializer().deserializeMethodCall(stream, (error, methodName, params) => {
      // The deserializer can report more than once (an error, then the end of the stream).
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else if (typeof methodName !== "string" || methodName === "")
        reject(new Error("method call has no method name"));
      else resolve({ methodName, params: (params ?? []).map(sanitize) });
    });
    stream.end(body);
  });
}

/** Parses an XML-RPC `<params>` document holding one value (Spacewalk's systemid file). */
export function parseParamsDocument(text: string): Promise<XmlRpcValue> {
  const body = text
    .trim()
    .replace(/^<\?xml[^>]*\?>/i, "")
    .trim();
  if (!/^<params[\s>]/i.test(body) || !/<\/params>$/i.test(body)) {
    return Promise.reject(new Error("not an XML-RPC <params> document"));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const stream = new PassThrough();
    // The deserializer understands method responses; a <params> document is one without the wrapper.
    new Deserializer().deserializeMethodResponse(stream, (error, result) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(sanitize(result));
    });
    stream.end(`<?xml version="1.0"?><methodResponse>${body}</methodResponse>`);
  });
}

export function serializeResponse(value: XmlRpcValue): string {
  return Serializer.serializeMethodResponse(value);
}

export function serializeFault(faultCode: number, faultString: string): string {
  return Serializer.serializeFault({ faultCode, faultString });
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
 * and smuggle in inherited members.
 */
function sanitize(value: unknown): XmlRpcValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(sanitize);
  if (typeof value === "object") {
    const out: Record<string, XmlRpcValue> = {};
    for (const key of Object.keys(value)) {
      if (key === "__proto__") continue;
      out[key] = sanitize((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return null;
}
