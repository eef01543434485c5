import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import * as source from "../src/index.js";

// What gets published is dist/, not src/: import the build (nx runs build before test).
const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("published build", () => {
  it("exists and exports exactly what src/index.ts exports", async () => {
    expect(existsSync(built), `${built} missing: run the build first`).toBe(true);
    const dist = (await import(pathToFileURL(built).href)) as Record<string, unknown>;
    expect(Object.keys(dist).sort()).toEqual(Object.keys(source).sort());
    const z85Encode = dist.z85Encode as typeof source.z85Encode;
    expect(z85Encode(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe(
      "HelloWorld",
    );
    const generateKeyPair = dist.generateKeyPair as typeof source.generateKeyPair;
    const publicKeyFromSecret = dist.publicKeyFromSecret as typeof source.publicKeyFromSecret;
    const pair = generateKeyPair();
    expect(publicKeyFromSecret(pair.secretKey)).toBe(pair.publicKey);
  });
});
