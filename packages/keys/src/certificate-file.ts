import { constants, promises as fs } from "node:fs";
import { join } from "node:path";
import {
  formatCertificate,
  parseCertificate,
  type Certificate,
  type CertificateInput,
} from "./certificate-format.js";
import { CertificateSyntaxError, KeyError, KeyFileError, KeyPermissionError } from "./errors.js";
import { fileError, writeFileAtomic } from "./fs-util.js";
import type { KeyPair } from "./keypair.js";
import { assertKeyName } from "./names.js";

/** Suffix of public certificate files (pyzmq / czmq convention). */
export const PUBLIC_CERT_SUFFIX = ".key";
/** Suffix of secret certificate files (public + secret key). */
export const SECRET_CERT_SUFFIX = ".key_secret";
/** Mode of secret certificate files. */
export const SECRET_FILE_MODE = 0o600;
/** Mode of public certificate files. */
export const PUBLIC_FILE_MODE = 0o644;
/** Certificates are a few hundred bytes; refuse to slurp anything absurd. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

// Group/other permission bits: any of them on a secret file is refused, as ssh does.
const GROUP_OTHER_BITS = 0o077;

/**
 * Writes one certificate file atomically: mode 0600 when it holds a secret key, 0644
 * otherwise. An existing file is replaced.
 * @throws {KeyError} for invalid keys or metadata, {@link KeyFileError} for I/O failures.
 */
export async function writeCertificate(path: string, certificate: CertificateInput): Promise<void> {
  const text = formatCertificate(certificate);
  const mode = certificate.secretKey !== undefined ? SECRET_FILE_MODE : PUBLIC_FILE_MODE;
  try {
    await writeFileAtomic(path, text, { mode });
  } catch (error) {
    throw fileError(path, "write certificate", error);
  }
}

/**
 * Writes `NAME.key` (public) and `NAME.key_secret` (public + secret, 0600) into `dir`, like
 * pyzmq's `create_certificates`. The directory must exist. Metadata goes into both files.
 * @throws {InvalidKeyNameError} {@link KeyError} {@link KeyFileError}
 */
export async function writeCertificatePair(
  dir: string,
  name: string,
  keyPair: KeyPair,
  metadata?: Record<string, string>,
): Promise<{ publicPath: string; secretPath: string }> {
  assertKeyName(name);
  const publicPath = join(dir, `${name}${PUBLIC_CERT_SUFFIX}`);
  const secretPath = join(dir, `${name}${SECRET_CERT_SUFFIX}`);
  const meta = metadata ?? {};
  // Secret first: a crash in between leaves no public half whose secret is missing.
  await writeCertificate(secretPath, { ...keyPair, metadata: meta });
  await writeCertificate(publicPath, { publicKey: keyPair.publicKey, metadata: meta });
  return { publicPath, secretPath };
}

/**
 * Reads a certificate file. A file that holds a secret key (or is named `*.key_secret`) must
 * not be accessible by group or others.
 * @throws {KeyFileError} unreadable or malformed (with `line`), {@link KeyPermissionError}.
 */
export async function readCertificate(path: string): Promise<Certificate> {
  let handle: fs.FileHandle;
  try {
    // O_NOFOLLOW is not used: packagers and admins symlink certificates; fstat sees the target.
    handle = await fs.open(path, constants.O_RDONLY);
  } catch (error) {
    throw fileError(path, "open certificate", error);
  }
  try {
    // fstat on the open handle: the mode we check is the mode of the bytes we read.
    const stat = await handle.stat();
    if (!stat.isFile()) throw new KeyFileError(path, "is not a regular file");
    const mode = stat.mode & 0o7777;
    const looseSecret = (mode & GROUP_OTHER_BITS) !== 0;
    if (looseSecret && path.endsWith(SECRET_CERT_SUFFIX)) throw new KeyPermissionError(path, mode);
    if (stat.size > MAX_CERTIFICATE_BYTES) {
      throw new KeyFileError(path, `is ${stat.size} bytes; a certificate is well under 64 KiB`);
    }
    const bytes = await handle.readFile();
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (error) {
      throw new KeyFileError(path, "is not UTF-8 text (not a ZeroMQ certificate)", {
        cause: error,
      });
    }
    let certificate: Certificate;
    try {
      certificate = parseCertificate(text);
    } catch (error) {
      if (error instanceof CertificateSyntaxError) {
        throw new KeyFileError(path, error.detail, {
          cause: error,
          ...(error.line !== undefined ? { line: error.line } : {}),
        });
      }
      throw error;
    }
    if (certificate.secretKey !== undefined && looseSecret) {
      throw new KeyPermissionError(path, mode);
    }
    return certificate;
  } catch (error) {
    if (error instanceof KeyError) throw error;
    throw fileError(path, "read certificate", error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The public key of a certificate file (public or secret). */
export async function readPublicKey(path: string): Promise<string> {
  return (await readCertificate(path)).publicKey;
}

/**
 * The key pair of a secret certificate file.
 * @throws {KeyFileError} when the file has no secret-key (e.g. a `.key` public file).
 */
export async function readKeyPair(path: string): Promise<KeyPair> {
  const certificate = await readCertificate(path);
  if (certificate.secretKey === undefined) {
    throw new KeyFileError(
      path,
      `holds only a public key; a key pair needs the secret certificate (*${SECRET_CERT_SUFFIX})`,
    );
  }
  return { publicKey: certificate.publicKey, secretKey: certificate.secretKey };
}
