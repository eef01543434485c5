export {
  PackagerError,
  InvalidOptionError,
  InvalidNameError,
  DuplicateClientError,
  MissingServerKeyError,
  ServerKeyExistsError,
  RpmbuildMissingError,
  RpmBuildError,
  OutputDirError,
  ConfigFileError,
  ClientBundleError,
  ServerBundleError,
  DuplicateProxyError,
  UnknownProxyError,
  NoSuchKeyError,
  AmbiguousKeyNameError,
} from "./errors.js";
export {
  DEFAULT_SERVER_CERTIFICATES_DIR,
  DEFAULT_SERVER_CONFIG_PATH,
  DEFAULT_RELEASE,
  DEFAULT_RPMBUILD,
  MAX_CLIENT_NAME_LENGTH,
  RESERVED_CLIENT_NAMES,
  clientNameProblem,
  validateClientName,
  parseServerKeysOptions,
  parseClientPackageOptions,
  parseServerPackageOptions,
} from "./options.js";
export { PACKAGER_VERSION, PROJECT_URL } from "./constants.js";
export { CLIENT_PATHS } from "./client-files.js";
export { rpmArchFor } from "./arch.js";
export { rpmFileName, rpmPackageName } from "./spec.js";
export { createServerKeys } from "./server-keys.js";
export { createClientPackage } from "./client-package.js";
export { createServerPackage } from "./server-package.js";
export { SERVER_PATHS, SERVER_USER } from "./server-files.js";
export { serverRpmFileName, SERVER_RPM_NAME } from "./server-spec.js";
export { CLIENT_NODE_REQUIREMENT } from "./spec.js";
export { createClientPackages, readNamesFile } from "./client-packages.js";
export { revokeClient } from "./revoke-client.js";
export { listKeys, DEFAULT_SERVER_STATE_DIR } from "./keys-list.js";
export { DEFAULT_OVERLAP_MS, parseOverlap } from "./overlap.js";
export { DEFAULT_PROXY_PORT, DEFAULT_PROXY_LISTENER_PORT } from "./constants.js";
export { createProxyPackage } from "./proxy-package.js";
export { parseProxyPackageOptions } from "./proxy-options.js";
export { PROXY_PATHS } from "./proxy-files.js";
export { proxyRpmFileName, proxyRpmPackageName } from "./proxy-spec.js";
export { readProxy } from "./proxy-keys.js";
export { revokeKey } from "./revoke-key.js";

export type {
  CreateServerKeysOptions,
  ResolvedServerKeysOptions,
  ClientPackageOptions,
  ResolvedClientPackageOptions,
  ServerPackageOptions,
  ResolvedServerPackageOptions,
} from "./options.js";
export type { ServerPackage } from "./server-package.js";
export type { RpmArch } from "./arch.js";
export type { ServerKeysResult } from "./server-keys.js";
export type { ClientPackage } from "./client-package.js";
export type { RevokeClientOptions } from "./revoke-client.js";
export type { KeyList, KeyListing, KeyKind, KeyState, ListKeysOptions } from "./keys-list.js";
export type { ProxyPackage } from "./proxy-package.js";
export type { ProxyPackageOptions, ResolvedProxyPackageOptions } from "./proxy-options.js";
export type { ProxyRecord } from "./proxy-keys.js";
export type { RevokeKeyOptions, RevokedKey } from "./revoke-key.js";
export type { ClientPackagesOptions, ClientPackageOutcome } from "./client-packages.js";
