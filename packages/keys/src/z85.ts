import { Z85Error } from "./errors.js";

/** The Z85 alphabet of ZeroMQ RFC 32 (https://rfc.zeromq.org/spec/32/). */
export const Z85_ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Length of a 32-byte CURVE key in Z85. */
export const CURVE_KEY_Z85_LENGTH = 40;
/** Length of a CURVE key in bytes. */
export const CURVE_KEY_BYTES = 32;

// Character code → digit value, -1 for characters outside the alphabet.
const DECODER: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < Z85_ALPHABET.length; i++) table[Z85_ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/**
 * Encodes bytes as Z85. RFC 32 only defines whole 4-byte groups, so the length must be a
 * multiple of 4 (CURVE keys are 32 bytes → 40 characters).
 * @throws {Z85Error} reason `length` otherwise.
 */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) {
    throw new Z85Error(
      "length",
      `Z85 can only encode a multiple of 4 bytes; got ${bytes.length} bytes`,
    );
  }
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    // Unsigned 32-bit big-endian value; `>>> 0` keeps it positive.
    let value =
      (((bytes[i] ?? 0) << 24) |
        ((bytes[i + 1] ?? 0) << 16) |
        ((bytes[i + 2] ?? 0) << 8) |
        (bytes[i + 3] ?? 0)) >>>
      0;
    const chunk: string[] = [];
    for (let j = 0; j < 5; j++) {
      chunk.push(Z85_ALPHABET.charAt(value % 85));
      value = Math.floor(value / 85);
    }
    out += chunk.reverse().join("");
  }
  return out;
}

/**
 * Decodes Z85 text. The length must be a multiple of 5, every character must be in the
 * alphabet and every 5-character group must fit in 32 bits.
 * @throws {Z85Error} with reason `length`, `character` or `overflow`.
 */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) {
    throw new Z85Error(
      "length",
      `Z85 text length must be a multiple of 5; got ${text.length} characters`,
    );
  }
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? (DECODER[code] ?? -1) : -1;
      if (digit < 0) {
        throw new Z85Error(
          "character",
          `invalid Z85 character ${JSON.stringify(text.charAt(i + j))} at position ${i + j}`,
        );
      }
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) {
      throw new Z85Error(
        "overflow",
        `Z85 group ${JSON.stringify(text.slice(i, i + 5))} at position ${i} exceeds 32 bits`,
      );
    }
    const o = (i / 5) * 4;
    out[o] = (value >>> 24) & 0xff;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/** True when `z85` is a 40-character Z85 string, i.e. a usable 32-byte CURVE key. */
export function isCurveKey(z85: unknown): z85 is string {
  if (typeof z85 !== "string" || z85.length !== CURVE_KEY_Z85_LENGTH) return false;
  try {
    z85Decode(z85);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes a CURVE key, naming it in the error (`what` = e.g. "public key").
 * @throws {Z85Error}
 */
export function decodeCurveKey(z85: string, what: string): Uint8Array {
  if (typeof z85 !== "string" || z85.length !== CURVE_KEY_Z85_LENGTH) {
    const got = typeof z85 === "string" ? `${z85.length} characters` : typeof z85;
    throw new Z85Error(
      "length",
      `${what} must be ${CURVE_KEY_Z85_LENGTH} Z85 characters (32 bytes); got ${got}`,
    );
  }
  try {
    return z85Decode(z85);
  } catch (error) {
    if (error instanceof Z85Error) {
      throw new Z85Error(error.reason, `${what} is not valid Z85: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
