import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  formatCertificate,
  generateKeyPair,
  InvalidKeyNameError,
  KeyError,
  KeyFileError,
  KeyPermissionError,
  parseCertificate,
  readCertificate,
  readKeyPair,
  readPublicKey,
  writeCertificate,
  writeCertificatePair,
} from "../src/index.js";
import { caught, TempDirs } from "@osad2/test-helpers";

const dirs = new TempDirs("osad2-keys-");
afterEach(() => dirs.removeAll());

// A key pair made for these fixtures (public key derived from the secret one).
const PUBLIC = "qP=W<kb2RVk0V$4ifuVW!PmfH6s=d#iV[J6N#h8X";
const SECRET = "s@b?H{?ZvpTa!&c^&M!mF0Cw9@typuh07HpW:7)p";
const OTHER_PUBLIC = "QBi4MiaOk[[Xgs.3iVGUf#H/%X!Lj3WGKg[P<9BF";

// Byte for byte what pyzmq's zmq.auth.create_certificates writes (metadata values unquoted).
const PYZMQ_SECRET = `#   ****  Generated on 2016-01-01 12:00:00.000000 by pyzmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

metadata
    system-id = 1000010000
    owner = admin
curve
    public-key = "${PUBLIC}"
    secret-key = "${SECRET}"
`;

const PYZMQ_PUBLIC = `#   ****  Generated on 2016-01-01 12:00:00.000000 by pyzmq  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

metadata
curve
    public-key = "${PUBLIC}"
`;

function write(dir: string, name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

async function fileErrorOf(text: string, name = "bad.key"): Promise<KeyFileError> {
  const path = write(await dirs.make(), name, text);
  const error = await caught(() => readCertificate(path));
  expect(error).toBeInstanceOf(KeyFileError);
  const fileError = error as KeyFileError;
  expect(fileError.path).toBe(path);
  expect(fileError.message).toContain(path);
  return fileError;
}

describe("certificate files (pyzmq zmq.auth format)", () => {
  it("reads a verbatim pyzmq secret certificate", async () => {
    const path = write(await dirs.make(), "client.key_secret", PYZMQ_SECRET);
    expect(await readCertificate(path)).toEqual({
      publicKey: PUBLIC,
      secretKey: SECRET,
      metadata: { "system-id": "1000010000", owner: "admin" },
    });
    expect(await readKeyPair(path)).toEqual({ publicKey: PUBLIC, secretKey: SECRET });
    expect(await readPublicKey(path)).toBe(PUBLIC);
  });

  it("reads a verbatim pyzmq public certificate", async () => {
    const path = write(await dirs.make(), "client.key", PYZMQ_PUBLIC, 0o644);
    expect(await readCertificate(path)).toEqual({ publicKey: PUBLIC, metadata: {} });
    expect(await readPublicKey(path)).toBe(PUBLIC);
  });

  it("accepts CRLF, tabs, a BOM, single quotes, bare values, trailing comments and no metadata", () => {
    const variants = [
      PYZMQ_SECRET.replace(/\n/g, "\r\n"),
      PYZMQ_SECRET.replace(/ {4}/g, "\t"),
      `\uFEFF${PYZMQ_SECRET}`,
      PYZMQ_SECRET.replace(/"/g, "'"),
      PYZMQ_SECRET.replace(/^metadata\n(.*\n){2}/m, ""),
      `curve\n  public-key = "${PUBLIC}"   # the client\n  secret-key=${SECRET}\n\n\n`,
      `# czmq zcert\nmetadata\n    name = "a b"\ncurve\n    secret-key = "${SECRET}"\n    public-key = "${PUBLIC}"`,
    ];
    for (const text of variants) {
      const certificate = parseCertificate(text);
      expect(certificate.publicKey).toBe(PUBLIC);
      expect(certificate.secretKey).toBe(SECRET);
    }
    expect(parseCertificate(variants[6] ?? "").metadata).toEqual({ name: "a b" });
  });

  it("round-trips a pair with metadata, in pyzmq's layout", async () => {
    const dir = await dirs.make();
    const pair = generateKeyPair();
    const metadata = { "client-name": "0123456789abcdef", host: "web01.example.com" };
    const { publicPath, secretPath } = await writeCertificatePair(dir, "web01", pair, metadata);
    expect(publicPath).toBe(join(dir, "web01.key"));
    expect(secretPath).toBe(join(dir, "web01.key_secret"));

    expect(await readCertificate(secretPath)).toEqual({ ...pair, metadata });
    expect(await readCertificate(publicPath)).toEqual({ publicKey: pair.publicKey, metadata });
    expect(await readKeyPair(secretPath)).toEqual(pair);

    const secretText = readFileSync(secretPath, "utf8");
    expect(secretText).toMatch(
      /^# {3}\*{4} {2}Generated on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} by /,
    );
    expect(secretText).toContain("#   ZeroMQ CURVE **Secret** Certificate\n");
    expect(secretText).toContain(
      `\nmetadata\n    client-name = "0123456789abcdef"\n    host = "web01.example.com"\ncurve\n` +
        `    public-key = "${pair.publicKey}"\n    secret-key = "${pair.secretKey}"\n`,
    );
    const publicText = readFileSync(publicPath, "utf8");
    expect(publicText).toContain("#   ZeroMQ CURVE Public Certificate\n");
    expect(publicText).not.toContain("secret-key");
    expect(publicText).not.toContain(pair.secretKey);
  });

  it("writes secret files 0600 and public files 0644, leaving no temporary files", async () => {
    const dir = await dirs.make();
    const { publicPath, secretPath } = await writeCertificatePair(dir, "c", generateKeyPair());
    expect(statSync(secretPath).mode & 0o777).toBe(0o600);
    expect(statSync(publicPath).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual(["c.key", "c.key_secret"]);
  });

  it("replaces an existing certificate and tightens a loose secret file", async () => {
    const dir = await dirs.make();
    const path = write(dir, "x.key_secret", "garbage", 0o666);
    const pair = generateKeyPair();
    await writeCertificate(path, pair);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await readKeyPair(path)).toEqual(pair);
  });

  it("refuses a secret file readable by group or others and says how to fix it", async () => {
    const dir = await dirs.make();
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const path = write(dir, "client.key_secret", PYZMQ_SECRET, mode);
      const error = await caught(() => readCertificate(path));
      expect(error).toBeInstanceOf(KeyPermissionError);
      const permissionError = error as KeyPermissionError;
      expect(permissionError.path).toBe(path);
      expect(permissionError.mode).toBe(mode);
      expect(permissionError.message).toContain(`chmod 600 ${path}`);
      await expect(readKeyPair(path)).rejects.toBeInstanceOf(KeyPermissionError);
    }
    // The same content with a public file's name is still a secret: refused too.
    const disguised = write(dir, "client.key", PYZMQ_SECRET, 0o644);
    await expect(readCertificate(disguised)).rejects.toBeInstanceOf(KeyPermissionError);
    // 0400 is fine; a public certificate may be world-readable.
    expect(
      (await readCertificate(write(dir, "ro.key_secret", PYZMQ_SECRET, 0o400))).secretKey,
    ).toBe(SECRET);
    expect((await readCertificate(write(dir, "p.key", PYZMQ_PUBLIC, 0o644))).publicKey).toBe(
      PUBLIC,
    );
  });

  it("names the path and line of what it cannot parse", async () => {
    const cases: Array<[string, number | undefined, string]> = [
      ["hello world\n", 1, "section"],
      [`metadata\ncurve\n    public-key = "${PUBLIC.slice(1)}"\n`, 3, "40 Z85"],
      [`curve\n    public-key = "${PUBLIC.slice(0, 39)} "\n`, 2, "40 Z85"],
      [`    public-key = "${PUBLIC}"\n`, 1, "outside any section"],
      [`curve\n    public-key "${PUBLIC}"\n`, 2, "name = "],
      [`curve\n    public-key = "${PUBLIC}"\n    colour = "red"\n`, 3, "unknown entry"],
      [`curve\n    public-key = "${PUBLIC}"\n    public-key = "${PUBLIC}"\n`, 3, "duplicate"],
      [`metadata\n    a = 1\n    a = 2\ncurve\n    public-key = "${PUBLIC}"\n`, 3, "duplicate"],
      [
        `curve\n    public-key = "${OTHER_PUBLIC}"\n    secret-key = "${SECRET}"\n`,
        2,
        "does not belong",
      ],
      [`[curve]\npublic-key = ${PUBLIC}\n`, 1, "section"],
      ["#   just a comment\n\n", undefined, "no public-key"],
      ["", undefined, "no public-key"],
    ];
    for (const [text, line, words] of cases) {
      const error = await fileErrorOf(text);
      expect(error.line, text).toBe(line);
      expect(error.message, text).toContain(words);
      if (line !== undefined) expect(error.message).toContain(`:${line}:`);
    }
  });

  it("refuses binary garbage, directories and missing files with a KeyFileError", async () => {
    const dir = await dirs.make();
    const binary = join(dir, "bin.key");
    writeFileSync(binary, Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x81]));
    expect(((await caught(() => readCertificate(binary))) as Error).message).toContain("UTF-8");
    await expect(readCertificate(dir)).rejects.toBeInstanceOf(KeyFileError);
    const missing = (await caught(() => readCertificate(join(dir, "none.key")))) as KeyFileError;
    expect(missing).toBeInstanceOf(KeyFileError);
    expect(missing.code).toBe("ENOENT");
    expect(missing.message).toContain(join(dir, "none.key"));
  });

  it("refuses to read a key pair from a public certificate", async () => {
    const path = write(await dirs.make(), "c.key", PYZMQ_PUBLIC, 0o644);
    const error = (await caught(() => readKeyPair(path))) as KeyFileError;
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error.message).toContain(".key_secret");
  });

  it("refuses to write what would not read back", async () => {
    const dir = await dirs.make();
    const pair = generateKeyPair();
    const bad: Array<[Parameters<typeof writeCertificate>[1], string]> = [
      [{ publicKey: "short" }, "publicKey"],
      [{ publicKey: pair.publicKey, secretKey: "x".repeat(40) }, "secretKey"],
      [{ publicKey: OTHER_PUBLIC, secretKey: pair.secretKey }, "does not belong"],
      [{ ...pair, metadata: { "bad name": "x" } }, "bad name"],
      [{ ...pair, metadata: { note: 'say "hi"' } }, "note"],
      [{ ...pair, metadata: { note: "two\nlines" } }, "note"],
      [{ ...pair, metadata: { "public-key-copy": "x" } }, "pyzmq"],
    ];
    for (const [input, words] of bad) {
      const path = join(dir, "out.key_secret");
      const error = await caught(() => writeCertificate(path, input));
      expect(error).toBeInstanceOf(KeyError);
      expect((error as Error).message).toContain(words);
    }
    expect(readdirSync(dir)).toEqual([]);
    await expect(writeCertificatePair(dir, "../evil", pair)).rejects.toBeInstanceOf(
      InvalidKeyNameError,
    );
    await expect(writeCertificatePair(dir, ".hidden", pair)).rejects.toBeInstanceOf(
      InvalidKeyNameError,
    );
  });

  it("reports a missing directory on write as a KeyFileError with the path", async () => {
    const path = join(await dirs.make(), "no", "such", "c.key");
    const error = (await caught(() =>
      writeCertificate(path, { publicKey: PUBLIC }),
    )) as KeyFileError;
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error.path).toBe(path);
    expect(error.code).toBe("ENOENT");
  });

  it("formats what it parses", () => {
    const input = { publicKey: PUBLIC, secretKey: SECRET, metadata: { a: "1", "b.c": "x y" } };
    expect(parseCertificate(formatCertificate(input))).toEqual(input);
  });
});
