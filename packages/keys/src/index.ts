export {
  KeyError,
  Z85Error,
  KeyFileError,
  KeyPermissionError,
  KeyDirectoryPermissionError,
  KeyExistsError,
  KeyNotFoundError,
  KeyRevokedError,
  InvalidKeyNameError,
  CertificateSyntaxError,
} from "./errors.js";
export {
  Z85_ALPHABET,
  CURVE_KEY_Z85_LENGTH,
  CURVE_KEY_BYTES,
  z85Encode,
  z85Decode,
  isCurveKey,
} from "./z85.js";
export { generateKeyPair, publicKeyFromSecret } from "./keypair.js";
export { isValidKeyName, assertKeyName } from "./names.js";
export { formatCertificate, parseCertificate } from "./certificate-format.js";
export {
  PUBLIC_CERT_SUFFIX,
  SECRET_CERT_SUFFIX,
  PUBLIC_FILE_MODE,
  SECRET_FILE_MODE,
  writeCertificate,
  writeCertificatePair,
  readCertificate,
  readPublicKey,
  readKeyPair,
} from "./certificate-file.js";
export {
  SERVER_CERT_NAME,
  PRIVATE_DIR_MODE,
  PUBLIC_DIR_MODE,
  certificateLayout,
  createServerKeyPair,
} from "./layout.js";
export { KeyStore } from "./key-store.js";
export { compactTimestamp, parseCompactTimestamp } from "./fs-util.js";
export { assertKeyDirectory } from "./directory-check.js";
export {
  KEY_USAGE_FILE,
  KEY_USAGE_FILE_MODE,
  KeyUsageFileError,
  keyUsagePath,
  readKeyUsage,
  writeKeyUsage,
} from "./key-usage.js";
export {
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_FULL_SCAN_INTERVAL_MS,
} from "./store-options.js";

export type { Z85ErrorReason } from "./errors.js";
export type { KeyPair } from "./keypair.js";
export type { KeyUsage } from "./key-usage.js";
export type { Certificate, CertificateInput } from "./certificate-format.js";
export type {
  CertificateLayout,
  CreateServerKeyPairOptions,
  CreateServerKeyPairResult,
} from "./layout.js";
export type { KeyStoreOptions, AddKeyOptions, ReissueOptions, AllowList } from "./store-options.js";
export type { StoredKey, RetiringKey, KeyStoreChange } from "./store-state.js";
export type { ReissueResult } from "./key-store.js";
