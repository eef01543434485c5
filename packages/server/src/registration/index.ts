export {
  signSystemId,
  verifySystemId,
  parseSystemId,
  SYSTEMID_CHECKSUM_FIELDS,
  MAX_SYSTEMID_CHARS,
} from "./systemid.js";
export { systemIdChecksum, checksumAlgorithm } from "./checksum.js";
export {
  registerOsad,
  registerOsadJid,
  authenticateSystem,
  newClientName,
  newSharedKey,
  MAX_JABBER_ID_LENGTH,
} from "./register.js";
export { registrationMethods, REGISTER_OSAD, REGISTER_OSAD_JID } from "./xmlrpc-methods.js";
export { startRegistrationEndpoint } from "./endpoint.js";
export {
  RegistrationFault,
  FAULT_INVALID_SYSTEM,
  FAULT_ANONYMOUS_SYSTEM,
  FAULT_NO_JABBER_ID,
} from "./errors.js";
export type { RegistrationFaultReason } from "./errors.js";
export type { SystemIdFields, SignOptions, ParsedSystemId, SystemSecret } from "./systemid.js";
export type { ChecksumValue } from "./checksum.js";
export type { RegistrationReplyExtras, RegisterOsadReply } from "./register.js";
export type { RegistrationStore } from "./store.js";
export type { RegistrationEndpoint, RegistrationEndpointOptions } from "./endpoint.js";
