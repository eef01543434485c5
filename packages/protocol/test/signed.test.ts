import { caught } from "@osad2/test-helpers";
import { describe, expect, it } from "vitest";
import {
  MAX_MESSAGE_BYTES,
  ProtocolError,
  decodeListenerMessage,
  decodeServerReply,
  decodeConnectionMessage,
  encodeCheckin,
  encodeConnectionHello,
  encodePing,
  encodeChallenge,
  encodeGoodbye,
  encodeHelloRequest,
  encodeListenerMessage,
  encodeRefused,
  encodeSignedHello,
  encodeSignedPong,
  encodeUnknownClient,
  signMessage,
  verifySignature,
} from "../src/index.js";

const KEY = "0123456789abcdef0123456789abcdef01234567"; // register_osad's 40 hex chars
const NAME = "0123456789abcdef";
const text = (s: string) => Buffer.from(s, "utf8");

describe("signatures", () => {
  it("are HMAC-SHA256 over type, name and nonce with the shared key", () => {
    const mac = signMessage(KEY, "pong", NAME, "tok");
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(verifySignature(KEY, "pong", NAME, "tok", mac)).toBe(true);
  });

  it.each([
    ["another key", "1123456789abcdef0123456789abcdef01234567", "pong", NAME, "tok"],
    ["another type", KEY, "hello", NAME, "tok"],
    ["another name", KEY, "pong", "0123456789abcdee", "tok"],
    ["another nonce", KEY, "pong", NAME, "tok2"],
  ] as const)("fail for %s", (_label, key, type, name, nonce) => {
    const mac = signMessage(KEY, "pong", NAME, "tok");
    expect(verifySignature(key, type, name, nonce, mac)).toBe(false);
  });

  it("fail for a malformed mac instead of throwing", () => {
    expect(verifySignature(KEY, "pong", NAME, "tok", "zz")).toBe(false);
    expect(verifySignature(KEY, "pong", NAME, "tok", "A".repeat(64))).toBe(false);
  });
});

describe("signed client messages", () => {
  it("a signed pong carries name, token and mac and verifies", () => {
    const frame = encodeSignedPong(NAME, "tok", KEY);
    const message = decodeListenerMessage(frame);
    expect(message).toMatchObject({ kind: "signed-pong", clientName: NAME, token: "tok" });
    if (message.kind !== "signed-pong") throw new Error("kind");
    expect(verifySignature(KEY, "pong", NAME, "tok", message.mac)).toBe(true);
    expect(encodeListenerMessage(message).equals(frame)).toBe(true);
  });

  it("a signed hello round-trips with its signature", () => {
    const lastRun = { at: 1_700_000_000, exitCode: 0 };
    const frame = encodeSignedHello({ clientName: NAME, software: "0.2.0", lastRun }, "n1", KEY);
    const message = decodeListenerMessage(frame);
    if (message.kind !== "hello") throw new Error("kind");
    expect(message.hello).toMatchObject({ version: 2, clientName: NAME, lastRun });
    const signature = message.hello.signature;
    expect(signature?.nonce).toBe("n1");
    expect(verifySignature(KEY, "hello", NAME, "n1", signature?.mac ?? "")).toBe(true);
    expect(encodeListenerMessage(message).equals(frame)).toBe(true);
    // The largest hello (64-char name and software, 128-char nonce) fits in a quarter of the limit.
    const big = encodeSignedHello(
      { clientName: "a".repeat(64), software: "s".repeat(64), lastRun },
      "n".repeat(128),
      KEY,
    );
    expect(big.byteLength).toBeLessThan(MAX_MESSAGE_BYTES / 4);
  });

  it("hello-request and goodbye round-trip", () => {
    expect(decodeListenerMessage(encodeHelloRequest())).toEqual({
      kind: "hello-request",
      version: 2,
    });
    expect(decodeListenerMessage(encodeHelloRequest(3))).toEqual({
      kind: "hello-request",
      version: 3,
    });
    const goodbye = decodeListenerMessage(encodeGoodbye(NAME, "tok", KEY));
    expect(goodbye).toMatchObject({ kind: "goodbye", clientName: NAME, nonce: "tok" });
  });

  it.each([
    ["a pong without mac", `pong ${NAME} tok`, "bad-format"],
    ["a pong with a short mac", `pong ${NAME} tok abcd`, "bad-signature-format"],
    ["a pong with a bad name", `pong a:b tok ${"a".repeat(64)}`, "bad-client-name"],
    ["a goodbye with four fields", `goodbye ${NAME} t ${"a".repeat(64)} x`, "bad-format"],
    ["a hello-request for version 1", "hello-request 1", "unsupported-version"],
    ["a hello-request for version 4", "hello-request 4", "unsupported-version"],
    [
      "a v3 hello without a key",
      `hello {"v":3,"name":"a","software":"x","nonce":"n","mac":"${"a".repeat(64)}"}`,
      "bad-hello",
    ],
    [
      "a v3 hello with a short key",
      `hello {"v":3,"name":"a","software":"x","nonce":"n","key":"abc","mac":"${"a".repeat(64)}"}`,
      "bad-hello",
    ],
    [
      "a hello with a bad mac",
      `hello {"v":2,"name":"a","software":"x","nonce":"n","mac":"x"}`,
      "bad-signature-format",
    ],
  ])("refuses %s", async (_label, input, reason) => {
    const error = await caught(() => decodeListenerMessage(text(input)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).reason).toBe(reason);
  });
});

describe("server replies", () => {
  it("round-trip", () => {
    expect(decodeServerReply(encodeChallenge("n1"))).toEqual({ kind: "challenge", nonce: "n1" });
    expect(decodeServerReply(encodeUnknownClient(NAME))).toEqual({
      kind: "unknown-client",
      clientName: NAME,
    });
    expect(decodeServerReply(encodeRefused("unsigned"))).toEqual({
      kind: "refused",
      reason: "unsigned",
    });
  });

  it.each([
    ["an unknown refusal", "refused maybe", "bad-reply"],
    ["a ping", "ping x", "unknown-topic"],
    ["a challenge with a space", "challenge a b", "bad-token"],
  ])("refuses %s", async (_label, input, reason) => {
    const error = await caught(() => decodeServerReply(text(input)));
    expect((error as ProtocolError).reason).toBe(reason);
  });
});

describe("version 3: one connection", () => {
  const CURVE = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

  it("signs the CURVE key into the hello: another key does not verify", () => {
    const frame = encodeConnectionHello(
      { clientName: NAME, software: "0.3.0", lastRun: null },
      "n1",
      KEY,
      CURVE,
    );
    const message = decodeListenerMessage(frame);
    if (message.kind !== "hello") throw new Error("not a hello");
    const { hello } = message;
    expect(hello).toMatchObject({ version: 3, clientName: NAME, curvePublicKey: CURVE });
    const mac = hello.signature?.mac ?? "";
    expect(verifySignature(KEY, "hello", NAME, "n1", mac, CURVE)).toBe(true);
    expect(verifySignature(KEY, "hello", NAME, "n1", mac, CURVE.replace("r", "s"))).toBe(false);
    // A v3 signature is not a v2 one (five signed fields, not four).
    expect(verifySignature(KEY, "hello", NAME, "n1", mac)).toBe(false);
    expect(decodeListenerMessage(encodeListenerMessage(message))).toEqual(message);
  });

  it("answers hello-request 3 with `challenge 3 <nonce>`; v2 challenges stay as they were", () => {
    expect(decodeServerReply(encodeChallenge("abc", 3))).toEqual({
      kind: "challenge",
      nonce: "abc",
      version: 3,
    });
    expect(encodeChallenge("abc", 3).toString()).toBe("challenge 3 abc");
    expect(decodeServerReply(encodeChallenge("abc"))).toEqual({ kind: "challenge", nonce: "abc" });
  });

  it("a connection receives replies, pings and checkins", () => {
    expect(decodeConnectionMessage(encodePing("t1"))).toEqual({ kind: "ping", token: "t1" });
    expect(decodeConnectionMessage(encodeCheckin(NAME))).toEqual({
      kind: "checkin",
      clientName: NAME,
    });
    expect(decodeConnectionMessage(encodeRefused("unsigned"))).toEqual({
      kind: "refused",
      reason: "unsigned",
    });
    expect(() => decodeConnectionMessage(Buffer.from("system:a reboot"))).toThrow(ProtocolError);
    expect(() => decodeConnectionMessage(Buffer.from("nonsense here"))).toThrow(ProtocolError);
  });
});
