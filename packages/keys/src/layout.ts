import { promises as fs } from "node:fs";
import { join, resolve } from "node:path";
import { writeCertificate, PUBLIC_CERT_SUFFIX, SECRET_CERT_SUFFIX } from "./certificate-file.js";
import { KeyExistsError } from "./errors.js";
import { compactTimestamp, ensureDirectory, fileError, pathExists } from "./fs-util.js";
import { generateKeyPair, type KeyPair } from "./keypair.js";

/** Name of the server's certificate pair, as the seed (spacewalk-osad2) names it. */
export const SERVER_CERT_NAME = "server";
/** Mode of `private_keys/`. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of the certificate root, `public_keys/`, `revoked/` and `retiring/`. */
export const PUBLIC_DIR_MODE = 0o755;

/** Where things live under a certificates directory (the seed's layout plus `revoked/` and `retiring/`). */
export interface CertificateLayout {
  readonly root: string;
  /** `root/private_keys`: the server's secret certificate; mode 0700. */
  readonly privateKeysDir: string;
  /** `root/public_keys`: the server's public certificate and every allowed client's `NAME.key`. */
  readonly publicKeysDir: string;
  /** `root/revoked`: revoked client certificates, kept, never deleted. */
  readonly revokedDir: string;
  /**
   * `root/retiring`: re-issued clients' old certificates, `<name>.<deadline>.key`, still allowed
   * until the successor in `public_keys/<name>.key` connects or the deadline passes, then moved
   * to `revoked/`. A server that does not know this directory never allows what is in it.
   */
  readonly retiringDir: string;
  /**
   * `root/proxies`: public certificates `NAME.key` of the osad2 proxies the server admits on its
   * proxy port (same format as `public_keys/`); revoked proxies go to `revoked/` like clients.
   */
  readonly proxiesDir: string;
  /** `root/private_keys/server.key_secret` */
  readonly serverSecretPath: string;
  /** `root/public_keys/server.key` */
  readonly serverPublicPath: string;
}

/** The paths of the certificate layout under `root` (made absolute). No I/O. */
export function certificateLayout(root: string): CertificateLayout {
  const abs = resolve(root);
  const privateKeysDir = join(abs, "private_keys");
  const publicKeysDir = join(abs, "public_keys");
  return {
    root: abs,
    privateKeysDir,
    publicKeysDir,
    revokedDir: join(abs, "revoked"),
    retiringDir: join(abs, "retiring"),
    proxiesDir: join(abs, "proxies"),
    serverSecretPath: join(privateKeysDir, `${SERVER_CERT_NAME}${SECRET_CERT_SUFFIX}`),
    serverPublicPath: join(publicKeysDir, `${SERVER_CERT_NAME}${PUBLIC_CERT_SUFFIX}`),
  };
}

/** Options of {@link createServerKeyPair}. */
export interface CreateServerKeyPairOptions {
  /** Replace an existing server key pair, keeping the old files as a dated backup. Default false. */
  force?: boolean;
  /** Metadata written into both certificates. Default none. */
  metadata?: Record<string, string>;
}

/** What {@link createServerKeyPair} did. */
export interface CreateServerKeyPairResult {
  keyPair: KeyPair;
  /** Backup of the old secret certificate (`server.key_secret.<timestamp>.bak`), when forced over one. */
  backupPath?: string;
  /** Backup of the old public certificate (`server.key.<timestamp>.bak`), when forced over one. */
  publicBackupPath?: string;
}

/**
 * Creates the certificate directories (root, `public_keys/`, `revoked/`, `retiring/` 0755,
 * `private_keys/` 0700) and a fresh server key pair: `private_keys/server.key_secret` (0600)
 * and `public_keys/server.key`.
 * @throws {KeyExistsError} when either server file exists and `force` is not set.
 * @throws {KeyFileError} on I/O failures.
 */
export async function createServerKeyPair(
  root: string,
  options: CreateServerKeyPairOptions = {},
): Promise<CreateServerKeyPairResult> {
  const layout = certificateLayout(root);
  await ensureDirectory(layout.root, PUBLIC_DIR_MODE);
  await ensureDirectory(layout.privateKeysDir, PRIVATE_DIR_MODE);
  await ensureDirectory(layout.publicKeysDir, PUBLIC_DIR_MODE);
  await ensureDirectory(layout.revokedDir, PUBLIC_DIR_MODE);
  await ensureDirectory(layout.retiringDir, PUBLIC_DIR_MODE);

  const existingSecret = await pathExists(layout.serverSecretPath);
  const existingPublic = await pathExists(layout.serverPublicPath);
  if ((existingSecret || existingPublic) && options.force !== true) {
    throw new KeyExistsError(
      SERVER_CERT_NAME,
      existingSecret ? layout.serverSecretPath : layout.serverPublicPath,
      "every client holds its public key, so replacing it cuts them all off; " +
        "pass force to replace it (the old files are kept as a dated backup)",
    );
  }

  const result: CreateServerKeyPairResult = { keyPair: generateKeyPair() };
  const stamp = compactTimestamp();
  // rename keeps the old secret's 0600 mode and never leaves a moment without a backup.
  if (existingSecret) {
    result.backupPath = await backup(layout.serverSecretPath, stamp);
  }
  if (existingPublic) {
    result.publicBackupPath = await backup(layout.serverPublicPath, stamp);
  }
  const metadata = options.metadata ?? {};
  await writeCertificate(layout.serverSecretPath, { ...result.keyPair, metadata });
  await writeCertificate(layout.serverPublicPath, {
    publicKey: result.keyPair.publicKey,
    metadata,
  });
  return result;
}

async function backup(path: string, stamp: string): Promise<string> {
  let target = `${path}.${stamp}.bak`;
  for (let n = 1; await pathExists(target); n++) target = `${path}.${stamp}-${n}.bak`;
  try {
    await fs.rename(path, target);
  } catch (error) {
    throw fileError(path, "back up", error);
  }
  return target;
}
