import { isStruct, type XmlRpcStruct, type XmlRpcValue } from "../xmlrpc/codec.js";
import { FAULT_INVALID_PARAMS, XmlRpcFault } from "../xmlrpc/faults.js";
import { FAULT_INVALID_SYSTEM, REREGISTER_HINT, RegistrationFault } from "./errors.js";
import type { XmlRpcMethod } from "../xmlrpc/server.js";
import { registerOsad, registerOsadJid, type RegistrationReplyExtras } from "./register.js";
import type { RegistrationStore } from "./store.js";

/** Method names, as Spacewalk's registration handler exposes them. */
export const REGISTER_OSAD = "registration.register_osad";
export const REGISTER_OSAD_JID = "registration.register_osad_jid";

/**
 * Both calls take (systemid: string, args?: struct), like Spacewalk's `def register_osad(self,
 * system_id, args={})`. A wrong number of arguments or args not a struct is fault 1 (Spacewalk's
 * TypeError); a systemid that is not a string is -9 (Spacewalk cannot read it as a certificate).
 */
function systemIdAndArgs(
  methodName: string,
  params: readonly XmlRpcValue[],
): { systemId: string; args: XmlRpcStruct } {
  if (params.length < 1 || params.length > 2) {
    throw new XmlRpcFault(
      FAULT_INVALID_PARAMS,
      `${methodName} takes (systemid: string, args: struct), got ${params.length} argument(s)`,
    );
  }
  const [systemId, args = {}] = params;
  if (typeof systemId !== "string") {
    throw new RegistrationFault(
      FAULT_INVALID_SYSTEM,
      "malformed-systemid",
      `${methodName}: argument 1 (systemid) must be a string holding the systemid document, got ${describe(systemId)}; ${REREGISTER_HINT}`,
    );
  }
  if (!isStruct(args)) {
    throw new XmlRpcFault(
      FAULT_INVALID_PARAMS,
      `${methodName}: argument 2 (args) must be a struct, got ${describe(args)}`,
    );
  }
  return { systemId, args };
}

function describe(value: XmlRpcValue | undefined): string {
  if (value === null || value === undefined) return "nil";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a dateTime";
  if (Buffer.isBuffer(value)) return "base64";
  return `a ${typeof value === "object" ? "struct" : typeof value}`;
}

/**
 * The XML-RPC methods of Spacewalk's registration handler that osad clients call:
 * `registration.register_osad` and `registration.register_osad_jid`. Pass the result as
 * `methods` to startXmlRpcServer.
 */
export function registrationMethods(
  store: RegistrationStore,
  extras: RegistrationReplyExtras,
): Readonly<Record<string, XmlRpcMethod>> {
  return {
    [REGISTER_OSAD]: async (params) => {
      const { systemId, args } = systemIdAndArgs(REGISTER_OSAD, params);
      return registerOsad(store, systemId, args, extras);
    },
    [REGISTER_OSAD_JID]: async (params) => {
      const { systemId, args } = systemIdAndArgs(REGISTER_OSAD_JID, params);
      return registerOsadJid(store, systemId, args);
    },
  };
}
