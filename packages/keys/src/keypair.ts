import nacl from "tweetnacl";
import { decodeCurveKey, z85Encode } from "./z85.js";

/** A Curve25519 key pair as ZeroMQ uses it: both halves Z85-encoded, 40 characters each. */
export interface KeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/**
 * Makes a fresh Curve25519 key pair (tweetnacl's `box.keyPair`, the same curve and key format
 * libzmq's `zmq_curve_keypair` uses). The strings go straight into zeromq's `curve*Key` options.
 */
export function generateKeyPair(): KeyPair {
  const pair = nacl.box.keyPair();
  return { publicKey: z85Encode(pair.publicKey), secretKey: z85Encode(pair.secretKey) };
}

/**
 * Derives the public key of a Z85 secret key (like libzmq's `zmq_curve_public`).
 * @throws {Z85Error} when `secretZ85` is not a 40-character Z85 key.
 */
export function publicKeyFromSecret(secretZ85: string): string {
  const secret = decodeCurveKey(secretZ85, "secret key");
  return z85Encode(nacl.scalarMult.base(secret));
}
