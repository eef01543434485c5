/**
 * XML-RPC fault codes osad2's endpoint answers with. Registration refusals use Spacewalk's own
 * rhnFault numbers as Spacewalk puts them on the wire, negated (-9 invalid systemid, -28
 * anonymous, -160 no jabber-id, see registration/errors.ts); a bad call is answered as
 * Spacewalk's dispatcher answers it (1 wrong arguments, -1 unknown method). Problems before a
 * method is chosen use the codes of the XML-RPC "specification for fault code
 * interoperability" (xmlrpc-epi), which most XML-RPC libraries share.
 */
export const FAULT_PARSE_ERROR = -32700; // body is not well-formed XML-RPC
export const FAULT_INVALID_CHARACTER = -32702; // a character XML forbids (NUL, C0 controls)
export const FAULT_INVALID_REQUEST = -32600; // not a methodCall, or past the decoding limits
export const FAULT_METHOD_NOT_FOUND = -1; // Spacewalk: rhnFault(-1) "Invalid function call attempted"
export const FAULT_INVALID_PARAMS = 1; // Spacewalk: a TypeError (wrong number of arguments) becomes fault 1
export const FAULT_INTERNAL_ERROR = -32603; // a handler failed unexpectedly
export const FAULT_SERVER_UNAVAILABLE = -32500; // a dependency (the database) is down; retry later

/** Throw from a method handler to answer with exactly this fault. */
export class XmlRpcFault extends Error {
  override readonly name = "XmlRpcFault";
  readonly faultCode: number;

  constructor(faultCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.faultCode = faultCode;
  }
}

/** The endpoint could not start (port taken, bad TLS material, bad option). */
export class XmlRpcServerError extends Error {
  override readonly name = "XmlRpcServerError";
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, detail: string, options?: { cause?: unknown }) {
    super(`XML-RPC endpoint on ${host}:${port}: ${detail}`, options);
    this.host = host;
    this.port = port;
  }
}

/** Why a document was not decoded; each maps to one fault code. */
export type XmlRpcDecodeReason = "malformed" | "character" | "not-a-call" | "limit";

const DECODE_FAULTS: Readonly<Record<XmlRpcDecodeReason, number>> = {
  malformed: FAULT_PARSE_ERROR,
  character: FAULT_INVALID_CHARACTER,
  "not-a-call": FAULT_INVALID_REQUEST,
  limit: FAULT_INVALID_REQUEST,
};

/** A request body (or a systemid document) that is not XML-RPC osad2 accepts. */
export class XmlRpcDecodeError extends Error {
  override readonly name = "XmlRpcDecodeError";
  readonly reason: XmlRpcDecodeReason;
  /** The fault code the endpoint answers with. */
  readonly faultCode: number;

  constructor(reason: XmlRpcDecodeReason, detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.reason = reason;
    this.faultCode = DECODE_FAULTS[reason];
  }
}
