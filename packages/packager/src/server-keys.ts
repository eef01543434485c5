import { certificateLayout, createServerKeyPair, readKeyPair, readPublicKey } from "@osad2/keys";
import { chown, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { ConfigFileError, ServerKeyExistsError } from "./errors.js";
import { describeSystemError, errnoCode, writeFileAtomic } from "@osad2/service-kit";
import { directoryProblem, pathExists } from "./fs-util.js";
import { parseServerKeysOptions, type CreateServerKeysOptions } from "./options.js";
import { renderServerConfig } from "./server-config.js";

/** What {@link createServerKeys} did. */
export interface ServerKeysResult {
  /** The server's public key (Z85), the one every client RPM carries. */
  readonly publicKey: string;
  /** False when a valid key pair was already there and was kept. */
  readonly created: boolean;
  /** With `force`: where the replaced key files were moved. */
  readonly backupPath?: string;
  readonly secretKeyPath: string;
  readonly publicKeyPath: string;
  /** The server config path, unless `config: false`. */
  readonly configPath?: string;
  /** False when a config file was already there (it is never overwritten). */
  readonly configWritten: boolean;
}

/**
 * Creates the server's CURVE key pair (`private_keys/server.key_secret` 0600, `public_keys/server.key`) and a
 * default server config when none exists. Running it again changes nothing and reports the existing key;
 * a half-present or mismatched pair is a {@link ServerKeyExistsError} unless `force` (old files kept as a backup).
 */
export async function createServerKeys(
  options: CreateServerKeysOptions = {},
): Promise<ServerKeysResult> {
  const opts = parseServerKeysOptions(options);
  const layout = certificateLayout(opts.certificates);

  // Check the config location first so a bad --config fails before any key is written.
  let configExists = false;
  if (opts.config !== false) {
    configExists = await configFileExists(opts.config);
    if (!configExists) {
      const problem = await directoryProblem(dirname(opts.config));
      if (problem !== undefined)
        throw new ConfigFileError(
          opts.config,
          `cannot be written: ${dirname(opts.config)} ${problem}`,
        );
    }
  }

  let publicKey: string;
  let created: boolean;
  let backupPath: string | undefined;
  if (opts.force) {
    const made = await createServerKeyPair(opts.certificates, { force: true });
    ({ publicKey } = made.keyPair);
    backupPath = made.backupPath;
    created = true;
  } else {
    const existing = await existingServerKey(layout.serverSecretPath, layout.serverPublicPath);
    if (existing === undefined) {
      publicKey = (await createServerKeyPair(opts.certificates, { force: false })).keyPair
        .publicKey;
      created = true;
    } else {
      publicKey = existing;
      created = false;
    }
  }

  if (created)
    await giveKeysToKeyDirOwner(layout.privateKeysDir, [
      layout.serverSecretPath,
      layout.serverPublicPath,
    ]);

  let configWritten = false;
  if (opts.config !== false && !configExists) {
    configWritten = await writeServerConfig(opts.config, opts.certificates);
  }
  return {
    publicKey,
    created,
    ...(backupPath === undefined ? {} : { backupPath }),
    secretKeyPath: layout.serverSecretPath,
    publicKeyPath: layout.serverPublicPath,
    ...(opts.config === false ? {} : { configPath: opts.config }),
    configWritten,
  };
}

/**
 * When root creates the pair in a `private_keys/` that another user owns (the server RPM's osad2),
 * the key files become that user's too: the server runs as it and could not read a root-owned 0600 key.
 */
async function giveKeysToKeyDirOwner(
  privateKeysDir: string,
  files: readonly string[],
): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const owner = await stat(privateKeysDir);
  if (owner.uid === 0) return;
  for (const file of files) await chown(file, owner.uid, owner.gid);
}

async function configFileExists(path: string): Promise<boolean> {
  try {
    if ((await stat(path)).isFile()) return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw new ConfigFileError(path, `cannot be checked: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
  throw new ConfigFileError(path, "exists but is not a regular file");
}

/** The public key of a complete, matching existing pair; undefined when neither file exists. */
async function existingServerKey(
  secretPath: string,
  publicPath: string,
): Promise<string | undefined> {
  const [secretExists, publicExists] = await Promise.all([
    pathExists(secretPath),
    pathExists(publicPath),
  ]);
  if (!secretExists && !publicExists) return undefined;
  if (!secretExists)
    throw new ServerKeyExistsError(publicPath, `exists but ${secretPath} is missing`);
  if (!publicExists)
    throw new ServerKeyExistsError(secretPath, `exists but ${publicPath} is missing`);
  const pair = await readKeyPair(secretPath);
  const published = await readPublicKey(publicPath);
  if (pair.publicKey !== published) {
    throw new ServerKeyExistsError(publicPath, `does not hold the public key of ${secretPath}`);
  }
  return pair.publicKey;
}

/** Writes the default config; false when another process created one meanwhile (never overwritten). */
async function writeServerConfig(path: string, certificates: string): Promise<boolean> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await writeFileAtomic(path, renderServerConfig({ certificates, created: new Date() }), {
      mode: 0o644,
      overwrite: false,
    });
    return true;
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return false;
    throw new ConfigFileError(path, `cannot be written: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}
