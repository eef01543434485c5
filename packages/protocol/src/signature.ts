import { createHmac, timingSafeEqual } from "node:crypto";
import { ProtocolError } from "./errors.js";

/** What a signature covers: the message type, the client name and a fresh server nonce. */
export type SignedMessageType = "hello" | "pong" | "goodbye";

/** HMAC-SHA256 in lowercase hex: 64 characters. */
const MAC = /^[0-9a-f]{64}$/;
/** Nonces: server challenges and ping tokens. */
const NONCE = /^[\x21-\x7e]{1,128}$/;

/**
 * HMAC-SHA256 keyed with the push client's shared key (rhnPushClient.shared_key, the
 * `shared-key` register_osad returned) over `osad2-v2 NUL type NUL name NUL nonce`, in hex.
 * NUL cannot occur in a name or a nonce, so no two inputs share a signed text.
 */
export function signMessage(
  sharedKey: string,
  type: SignedMessageType,
  clientName: string,
  nonce: string,
  /** v3 hello: the client's CURVE public key (Z85), signed as a fifth field. */
  curvePublicKey?: string,
): string {
  const extra = curvePublicKey === undefined ? "" : `\0${curvePublicKey}`;
  return createHmac("sha256", Buffer.from(sharedKey, "utf8"))
    .update(`osad2-v2\0${type}\0${clientName}\0${nonce}${extra}`, "utf8")
    .digest("hex");
}

/** True when `mac` is the signature of this message under `sharedKey` (compared in constant time). */
export function verifySignature(
  sharedKey: string,
  type: SignedMessageType,
  clientName: string,
  nonce: string,
  mac: string,
  curvePublicKey?: string,
): boolean {
  if (!MAC.test(mac)) return false;
  const expected = Buffer.from(
    signMessage(sharedKey, type, clientName, nonce, curvePublicKey),
    "hex",
  );
  return timingSafeEqual(expected, Buffer.from(mac, "hex"));
}

export function assertMac(mac: string): string {
  if (!MAC.test(mac)) {
    throw new ProtocolError(
      "bad-signature-format",
      "signature must be 64 lowercase hex characters",
    );
  }
  return mac;
}

export function assertNonce(nonce: string): string {
  if (!NONCE.test(nonce)) {
    throw new ProtocolError(
      "bad-token",
      "nonce must be 1-128 printable ASCII characters without spaces",
    );
  }
  return nonce;
}

/** Z85 of a 32-byte CURVE key: 40 characters of the Z85 alphabet. */
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

export function isValidCurveKey(key: string): boolean {
  return Z85_KEY.test(key);
}

export function assertCurveKey(key: string): string {
  if (!Z85_KEY.test(key)) {
    throw new ProtocolError("bad-hello", "a CURVE public key is 40 Z85 characters");
  }
  return key;
}
