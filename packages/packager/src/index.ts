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
  parseClientOptions,
} from "./options.js";
export { PACKAGER_VERSION, PROJECT_URL } from "./constants.js";
export { CLIENT_PATHS } from "./client-files.js";
export { rpmArchFor } from "./arch.js";
export { rpmFileName, rpmPackageName } from "./spec.js";
export { createServerKeys } from "./server-keys.js";
export { createClient } from "./create-client.js";
export { createClients, readNamesFile } from "./create-clients.js";
export { revokeClient } from "./revoke-client.js";

export type {
  CreateServerKeysOptions,
  ResolvedServerKeysOptions,
  CreateClientOptions,
  ResolvedClientOptions,
} from "./options.js";
export type { RpmArch } from "./arch.js";
export type { ServerKeysResult } from "./server-keys.js";
export type { ClientPackage } from "./create-client.js";
export type { RevokeClientOptions } from "./revoke-client.js";
export type { CreateClientsOptions, ClientOutcome } from "./create-clients.js";
