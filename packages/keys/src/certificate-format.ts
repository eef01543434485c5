/**
 * The text of a ZeroMQ certificate (ZPL, ZeroMQ RFC 4) as pyzmq's `zmq.auth.create_certificates`
 * writes it and `load_certificate` / czmq's `zcert_load` read it. Pure: no I/O here.
 */
import { CertificateSyntaxError, KeyError } from "./errors.js";
import { publicKeyFromSecret } from "./keypair.js";
import { isCurveKey } from "./z85.js";

/** The contents of a certificate file. */
export interface Certificate {
  /** Z85, 40 characters. */
  publicKey: string;
  /** Z85, 40 characters; only in secret (`.key_secret`) files. */
  secretKey?: string;
  /** Entries of the `metadata` section (empty when there are none). */
  metadata: Record<string, string>;
}

/** What a certificate is written from. */
export interface CertificateInput {
  publicKey: string;
  secretKey?: string;
  metadata?: Record<string, string>;
}

// ZPL names (RFC 4): letters, digits and $ - _ @ . & + /
const ZPL_NAME = /^[A-Za-z0-9$\-_@.&+/]+$/;
// name = value, where value is "quoted", 'quoted' or a bare token; an optional # comment after.
const ZPL_ENTRY = /^([^\s=#]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'#]*))\s*(?:#.*)?$/;
const CURVE_NAMES = new Set(["public-key", "secret-key"]);

/** pyzmq's timestamp: `str(datetime.now())` → `2016-01-01 12:00:00.000000`, local time. */
export function pyzmqTimestamp(date: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.` +
    `${p(date.getMilliseconds(), 3)}000`
  );
}

/**
 * Checks a certificate before it is written so that whatever we write reads back the same,
 * in osad2, pyzmq and czmq alike.
 * @throws {KeyError} (a {@link Z85Error} for malformed keys) naming the bad field.
 */
export function validateCertificateInput(input: CertificateInput): void {
  if (!isCurveKey(input.publicKey)) {
    throw new KeyError(`publicKey must be a 40-character Z85 CURVE key`);
  }
  if (input.secretKey !== undefined) {
    if (!isCurveKey(input.secretKey)) {
      throw new KeyError(`secretKey must be a 40-character Z85 CURVE key`);
    }
    if (publicKeyFromSecret(input.secretKey) !== input.publicKey) {
      throw new KeyError(`publicKey does not belong to secretKey (they are not one key pair)`);
    }
  }
  for (const [name, value] of Object.entries(input.metadata ?? {})) {
    if (!ZPL_NAME.test(name)) {
      throw new KeyError(
        `metadata name ${JSON.stringify(name)} is not a ZPL name (letters, digits, $-_@.&+/)`,
      );
    }
    // pyzmq's loader takes any line starting with these as the key itself.
    if (name.startsWith("public-key") || name.startsWith("secret-key")) {
      throw new KeyError(`metadata name ${JSON.stringify(name)} would be read as a key by pyzmq`);
    }
    if (typeof value !== "string" || /["\r\n\0]/.test(value)) {
      throw new KeyError(
        `metadata ${name} must be a string without double quotes, NUL or line breaks`,
      );
    }
  }
}

/**
 * Renders certificate text in pyzmq's layout: banner comment, `metadata` section, `curve`
 * section. Metadata values are quoted as ZPL wants (pyzmq writes them bare; both read back).
 */
export function formatCertificate(input: CertificateInput, now: Date = new Date()): string {
  validateCertificateInput(input);
  const stamp = pyzmqTimestamp(now);
  const banner =
    input.secretKey !== undefined
      ? [
          `#   ****  Generated on ${stamp} by osad2 (pyzmq format)  ****`,
          `#   ZeroMQ CURVE **Secret** Certificate`,
          `#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.`,
        ]
      : [
          `#   ****  Generated on ${stamp} by osad2 (pyzmq format)  ****`,
          `#   ZeroMQ CURVE Public Certificate`,
          `#   Exchange securely, or use a secure mechanism to verify the contents`,
          `#   of this file after exchange. Store public certificates in your home`,
          `#   directory, in the .curve subdirectory.`,
        ];
  const lines = [...banner, "", "metadata"];
  for (const [name, value] of Object.entries(input.metadata ?? {})) {
    lines.push(`    ${name} = "${value}"`);
  }
  lines.push("curve", `    public-key = "${input.publicKey}"`);
  if (input.secretKey !== undefined) lines.push(`    secret-key = "${input.secretKey}"`);
  return lines.join("\n") + "\n";
}

/**
 * Parses certificate text. Accepts what pyzmq and czmq write: comments, blank lines, CRLF,
 * a UTF-8 BOM, any indentation, quoted or bare values, an empty or missing `metadata` section.
 * Refuses anything else, naming the line.
 * @throws {CertificateSyntaxError}
 */
export function parseCertificate(text: string): Certificate {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let section: "metadata" | "curve" | undefined;
  let publicKey: string | undefined;
  let secretKey: string | undefined;
  let publicLine = 0;
  const metadata: Record<string, string> = {};

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trimEnd();
    const content = line.trimStart();
    if (content === "" || content.startsWith("#")) return;
    if (content.includes("\0")) throw new CertificateSyntaxError("NUL byte in file", lineNo);
    const indented = content.length !== line.length;

    if (!indented) {
      const name = content.replace(/\s*#.*$/, "");
      if (name === "metadata" || name === "curve") {
        section = name;
        return;
      }
      throw new CertificateSyntaxError(
        `expected a section "metadata" or "curve", found ${JSON.stringify(truncate(content))}`,
        lineNo,
      );
    }

    const match = ZPL_ENTRY.exec(content);
    if (!match) {
      throw new CertificateSyntaxError(
        `expected 'name = "value"', found ${JSON.stringify(truncate(content))}`,
        lineNo,
      );
    }
    const name = match[1] ?? "";
    const value = match[2] ?? match[3] ?? match[4] ?? "";
    if (!ZPL_NAME.test(name)) {
      throw new CertificateSyntaxError(`invalid name ${JSON.stringify(truncate(name))}`, lineNo);
    }
    if (section === undefined) {
      throw new CertificateSyntaxError(
        `entry ${JSON.stringify(name)} is outside any section (expected "metadata" or "curve" first)`,
        lineNo,
      );
    }
    if (section === "metadata") {
      if (Object.hasOwn(metadata, name)) {
        throw new CertificateSyntaxError(`duplicate metadata ${JSON.stringify(name)}`, lineNo);
      }
      metadata[name] = value;
      return;
    }
    if (!CURVE_NAMES.has(name)) {
      throw new CertificateSyntaxError(
        `unknown entry ${JSON.stringify(name)} in section curve (expected public-key or secret-key)`,
        lineNo,
      );
    }
    if (!isCurveKey(value)) {
      throw new CertificateSyntaxError(
        `${name} must be 40 Z85 characters in quotes, found ${JSON.stringify(truncate(value))}`,
        lineNo,
      );
    }
    if (name === "public-key") {
      if (publicKey !== undefined) throw new CertificateSyntaxError("duplicate public-key", lineNo);
      publicKey = value;
      publicLine = lineNo;
    } else {
      if (secretKey !== undefined) throw new CertificateSyntaxError("duplicate secret-key", lineNo);
      secretKey = value;
    }
  });

  if (publicKey === undefined) {
    throw new CertificateSyntaxError(
      'no public-key found (a certificate has a "curve" section with public-key = "...")',
    );
  }
  if (secretKey !== undefined && publicKeyFromSecret(secretKey) !== publicKey) {
    // The seed's createclient wrote the public key where the secret belonged; say so.
    throw new CertificateSyntaxError(
      "public-key does not belong to secret-key (the file does not hold one key pair)",
      publicLine,
    );
  }
  const certificate: Certificate = { publicKey, metadata };
  if (secretKey !== undefined) certificate.secretKey = secretKey;
  return certificate;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
