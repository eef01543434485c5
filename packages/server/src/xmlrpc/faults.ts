/**
 * XML-RPC fault codes osad2's endpoint answers with. Registration refusals use Spacewalk's own
 * rhnFault numbers (9 invalid systemid, 28 anonymous, 160 no jabber-id, see registration/errors.ts);
 * transport-level problems use the codes of the XML-RPC "specification for fault code
 * interoperability" (xmlrpc-epi), which most XML-RPC libraries share.
 */
export const FAULT_PARSE_ERROR = -32700; // body is not well-formed XML-RPC
export const FAULT_INVALID_REQUEST = -32600; // not a methodCall
export const FAULT_METHOD_NOT_FOUND = -32601;
export const FAULT_INVALID_PARAMS = -32602; // wrong number or types of arguments
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
