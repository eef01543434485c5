import { timingSafeEqual } from "node:crypto";
import {
  isStruct,
  parseParamsDocument,
  type XmlRpcStruct,
  type XmlRpcValue,
} from "../xmlrpc/codec.js";
import { checksumAlgorithm, systemIdChecksum, type ChecksumValue } from "./checksum.js";
import {
  FAULT_ANONYMOUS_SYSTEM,
  FAULT_INVALID_SYSTEM,
  REREGISTER_HINT,
  RegistrationFault,
} from "./errors.js";

/** Largest systemid document accepted; real ones are about 1 KiB. */
export const MAX_SYSTEMID_CHARS = 64 * 1024;

/** Spacewalk's checksum-covered fields, in the order its Certificate class lists them. */
export const SYSTEMID_CHECKSUM_FIELDS = [
  "username",
  "os_release",
  "operating_system",
  "architecture",
  "system_id",
  "type",
] as const;

/** The members of a systemid document. Extra members (e.g. profile_name) are carried along uncovered. */
export interface SystemIdFields {
  /** `ID-<rhnServer.id>`, matching rhnServer.digital_server_id. */
  readonly system_id: string;
  readonly username: string;
  readonly os_release: string;
  readonly operating_system: string;
  readonly architecture: string;
  /** Default "REAL". */
  readonly type?: string;
  readonly description?: string;
  readonly profile_name?: string;
  readonly [member: string]: string | undefined;
}

/** Options of signSystemId. */
export interface SignOptions {
  /** Field names the checksum covers, in order. Default SYSTEMID_CHECKSUM_FIELDS. */
  readonly checksumFields?: readonly string[];
}

/**
 * Writes a systemid document signed as Spacewalk signs it: an XML-RPC `<params>` document with
 * one struct holding the fields, `fields` (covered names) and `checksum`. `secret` is the system's
 * rhnServer.secret (64 characters → sha256, 32 → md5).
 */
export function signSystemId(
  fields: SystemIdFields,
  secret: string,
  options: SignOptions = {},
): string {
  const members: Record<string, string> = { type: "REAL" };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) members[key] = value;
  const covered = [...(options.checksumFields ?? SYSTEMID_CHECKSUM_FIELDS)];
  const checksum = systemIdChecksum(secret, members, covered);
  const parts = ['<?xml version="1.0"?>', "<params>", "<param>", "<value><struct>"];
  for (const [key, value] of Object.entries(members))
    parts.push(member(key, `<value><string>${escapeXml(value)}</string></value>`));
  parts.push(member("checksum", `<value><string>${checksum}</string></value>`));
  const items = covered
    .map((name) => `<value><string>${escapeXml(name)}</string></value>`)
    .join("\n");
  parts.push(member("fields", `<value><array><data>\n${items}\n</data></array></value>`));
  parts.push("</struct></value>", "</param>", "</params>", "");
  return parts.join("\n");
}

function member(name: string, value: string): string {
  return `<member>\n<name>${escapeXml(name)}</name>\n${value}\n</member>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The parts of a parsed systemid verification needs. */
export interface ParsedSystemId {
  readonly systemId: string;
  readonly type: string | undefined;
  readonly fields: readonly string[];
  readonly checksum: string;
  readonly values: Readonly<Record<string, ChecksumValue>>;
  readonly document: XmlRpcStruct;
}

/** Parses and checks the shape of a systemid document (no database access, no checksum). */
export async function parseSystemId(xml: string): Promise<ParsedSystemId> {
  const malformed = (detail: string, cause?: unknown) =>
    new RegistrationFault(
      FAULT_INVALID_SYSTEM,
      "malformed-systemid",
      `invalid systemid: ${detail}; ${REREGISTER_HINT}`,
      {
        cause,
      },
    );
  if (xml.length > MAX_SYSTEMID_CHARS)
    throw malformed(`larger than ${MAX_SYSTEMID_CHARS} characters`);
  let value: XmlRpcValue;
  try {
    value = await parseParamsDocument(xml);
  } catch (error) {
    throw malformed(`not an XML-RPC params document (${(error as Error).message})`, error);
  }
  if (!isStruct(value)) throw malformed("the document does not hold a struct");
  const systemId = value.system_id;
  if (typeof systemId !== "string" || systemId === "") throw malformed("no system_id member");
  const fieldList = value.fields;
  if (!Array.isArray(fieldList) || !fieldList.every((f): f is string => typeof f === "string")) {
    throw malformed("no fields list");
  }
  const checksum = value.checksum;
  if (typeof checksum !== "string") throw malformed("no checksum member");
  const values: Record<string, ChecksumValue> = {};
  for (const field of fieldList as readonly string[]) {
    const v = value[field];
    if (v === undefined)
      throw malformed(`fields lists "${field}" but the document has no such member`);
    if (typeof v === "string" || (typeof v === "number" && Number.isInteger(v))) values[field] = v;
    else if (Array.isArray(v) && v.every((i) => typeof i === "string" || typeof i === "number")) {
      values[field] = v as (string | number)[];
    } else throw malformed(`member "${field}" is not text`);
  }
  const type = typeof value.type === "string" ? value.type : undefined;
  return {
    systemId,
    type,
    fields: fieldList as readonly string[],
    checksum,
    values,
    document: value,
  };
}

/** What verifySystemId needs to know about a system: its rhnServer.secret. */
export interface SystemSecret {
  readonly secret: string;
}

/**
 * Authenticates a systemid as Spacewalk does. Throws RegistrationFault: -9 when malformed, unknown
 * or forged, -28 for type ANONYMOUS. `lookup` finds the system its `system_id` names.
 */
export async function verifySystemId<S extends SystemSecret>(
  xml: string,
  lookup: (systemId: string) => Promise<S | undefined>,
): Promise<{ readonly system: S; readonly systemId: ParsedSystemId }> {
  const parsed = await parseSystemId(xml);
  if (parsed.type !== undefined && parsed.type.toUpperCase() === "ANONYMOUS") {
    throw new RegistrationFault(
      FAULT_ANONYMOUS_SYSTEM,
      "anonymous",
      `anonymous systemids are not accepted; ${REREGISTER_HINT}`,
    );
  }
  const system = await lookup(parsed.systemId);
  if (system === undefined) {
    throw new RegistrationFault(
      FAULT_INVALID_SYSTEM,
      "unknown-system",
      `system ${parsed.systemId} is not registered with this Spacewalk; ${REREGISTER_HINT}`,
    );
  }
  if (checksumAlgorithm(system.secret) === undefined) {
    throw new RegistrationFault(
      FAULT_INVALID_SYSTEM,
      "unsupported-secret",
      `system ${parsed.systemId} has a secret of unsupported length in rhnServer; ${REREGISTER_HINT}`,
    );
  }
  const expected = Buffer.from(systemIdChecksum(system.secret, parsed.values, parsed.fields));
  const given = Buffer.from(parsed.checksum);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new RegistrationFault(
      FAULT_INVALID_SYSTEM,
      "bad-checksum",
      `the systemid checksum of ${parsed.systemId} does not match (forged or from an older registration); ${REREGISTER_HINT}`,
    );
  }
  return { system, systemId: parsed };
}
