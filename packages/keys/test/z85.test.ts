import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCurveKey, z85Decode, z85Encode, Z85Error, Z85_ALPHABET } from "../src/index.js";

// The test vector of ZeroMQ RFC 32.
const RFC_BYTES = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);

function z85ErrorOf(fn: () => unknown): Z85Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Z85Error) return error;
    throw error;
  }
  throw new Error("expected a Z85Error");
}

describe("Z85 (RFC 32)", () => {
  it("encodes the RFC test vector to HelloWorld", () => {
    expect(z85Encode(RFC_BYTES)).toBe("HelloWorld");
  });

  it("decodes HelloWorld to the RFC test vector", () => {
    expect(Array.from(z85Decode("HelloWorld"))).toEqual(Array.from(RFC_BYTES));
  });

  it("encodes the extremes of a 4-byte group", () => {
    expect(z85Encode(new Uint8Array(4))).toBe("00000");
    expect(z85Encode(Uint8Array.from([255, 255, 255, 255]))).toBe("%nSc0");
    expect(Array.from(z85Decode("%nSc0"))).toEqual([255, 255, 255, 255]);
    expect(z85Encode(new Uint8Array(0))).toBe("");
    expect(z85Decode("")).toEqual(new Uint8Array(0));
  });

  it("round-trips any multiple of 4 bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        const bytes = raw.slice(0, raw.length - (raw.length % 4));
        const text = z85Encode(bytes);
        expect(text).toHaveLength((bytes.length / 4) * 5);
        expect(Array.from(z85Decode(text))).toEqual(Array.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses byte lengths that are not a multiple of 4", () => {
    for (const length of [1, 2, 3, 5, 31, 33]) {
      const error = z85ErrorOf(() => z85Encode(new Uint8Array(length)));
      expect(error.reason).toBe("length");
      expect(error.message).toContain(`${length} bytes`);
    }
  });

  it("refuses text lengths that are not a multiple of 5", () => {
    for (const text of ["H", "Hell", "HelloW", "HelloWorl"]) {
      expect(z85ErrorOf(() => z85Decode(text)).reason).toBe("length");
    }
  });

  it("refuses characters outside the alphabet, naming the position", () => {
    for (const [text, position] of [
      ["Hello Worl", 5],
      ['"ello', 0],
      ["Hell~", 4],
      ["Hell\u00e9", 4],
      ["abcd,", 4],
      ["abcd;", 4],
      ["abcd\\", 4],
      ["abcd_", 4],
      ["abcd|", 4],
      ["abcd`", 4],
      ["abcd'", 4],
    ] as const) {
      const error = z85ErrorOf(() => z85Decode(text));
      expect(error.reason).toBe("character");
      expect(error.message).toContain(`position ${position}`);
    }
  });

  it("refuses groups above 2^32 - 1", () => {
    expect(z85ErrorOf(() => z85Decode("%nSc1")).reason).toBe("overflow");
    expect(z85ErrorOf(() => z85Decode("#####")).reason).toBe("overflow");
  });

  it("uses the 85-character alphabet of the RFC", () => {
    expect(Z85_ALPHABET).toHaveLength(85);
    expect(new Set(Z85_ALPHABET).size).toBe(85);
  });

  it("recognises CURVE keys: 40 valid characters", () => {
    expect(isCurveKey(z85Encode(new Uint8Array(32)))).toBe(true);
    expect(isCurveKey("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")).toBe(true);
    expect(isCurveKey("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hI")).toBe(false);
    expect(isCurveKey("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{h D")).toBe(false);
    expect(isCurveKey("#####w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")).toBe(false);
    expect(isCurveKey(undefined)).toBe(false);
    expect(isCurveKey(42)).toBe(false);
  });
});
