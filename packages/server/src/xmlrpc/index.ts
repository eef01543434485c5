export {
  startXmlRpcServer,
  XMLRPC_PATH,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from "./server.js";
export {
  XmlRpcFault,
  XmlRpcServerError,
  XmlRpcDecodeError,
  FAULT_PARSE_ERROR,
  FAULT_INVALID_CHARACTER,
  FAULT_INVALID_REQUEST,
  FAULT_METHOD_NOT_FOUND,
  FAULT_INVALID_PARAMS,
  FAULT_INTERNAL_ERROR,
  FAULT_SERVER_UNAVAILABLE,
} from "./faults.js";
export {
  parseMethodCall,
  parseParamsDocument,
  serializeCall,
  serializeFault,
  serializeResponse,
  isStruct,
  xmlSafeText,
  MAX_VALUE_DEPTH,
  MAX_ELEMENTS,
} from "./codec.js";
export type { XmlRpcValue, XmlRpcStruct } from "./codec.js";
export type { XmlRpcDecodeReason } from "./faults.js";
export type {
  XmlRpcMethod,
  XmlRpcCallContext,
  XmlRpcLogger,
  XmlRpcServerOptions,
  XmlRpcServer,
} from "./server.js";
