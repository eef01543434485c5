import { curveKeyPair } from "zeromq";
import { describe, expect, it } from "vitest";
import {
  generateKeyPair,
  isCurveKey,
  publicKeyFromSecret,
  z85Decode,
  Z85Error,
} from "../src/index.js";
import { caught } from "@osad2/test-helpers";

describe("key pairs", () => {
  it("makes 40-character Z85 keys that decode to 32 bytes", () => {
    const pair = generateKeyPair();
    expect(isCurveKey(pair.publicKey)).toBe(true);
    expect(isCurveKey(pair.secretKey)).toBe(true);
    expect(z85Decode(pair.publicKey)).toHaveLength(32);
    expect(z85Decode(pair.secretKey)).toHaveLength(32);
  });

  it("makes a different pair every time", () => {
    const keys = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const pair = generateKeyPair();
      keys.add(pair.publicKey);
      keys.add(pair.secretKey);
    }
    expect(keys.size).toBe(100);
  });

  it("derives the public key from the secret key", () => {
    for (let i = 0; i < 20; i++) {
      const pair = generateKeyPair();
      expect(publicKeyFromSecret(pair.secretKey)).toBe(pair.publicKey);
    }
  });

  it("agrees with libzmq's own key pairs (zeromq.curveKeyPair)", () => {
    for (let i = 0; i < 20; i++) {
      const pair = curveKeyPair();
      expect(publicKeyFromSecret(pair.secretKey)).toBe(pair.publicKey);
    }
  });

  it("refuses a secret that is not a 40-character Z85 key", async () => {
    for (const bad of ["", "HelloWorld", "x".repeat(41), `${"0".repeat(39)} `]) {
      const error = await caught(() => publicKeyFromSecret(bad));
      expect(error).toBeInstanceOf(Z85Error);
      expect((error as Error).message).toContain("secret key");
    }
  });
});
