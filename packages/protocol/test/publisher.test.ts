import { caught } from "@osad2/test-helpers";
import { describe, expect, it } from "vitest";
import {
  ProtocolError,
  clientSubscriptions,
  decodePublisherMessage,
  encodeCheckin,
  encodePing,
  isCheckinFor,
  MAX_MESSAGE_BYTES,
} from "../src/index.js";

const text = (s: string) => Buffer.from(s, "utf8");

async function reasonOf(fn: () => unknown): Promise<string> {
  const error = await caught(fn);
  expect(error).toBeInstanceOf(ProtocolError);
  return (error as ProtocolError).reason;
}

describe("publisher messages (seed format)", () => {
  it("encodes exactly the seed's text", () => {
    expect(encodeCheckin("0123456789abcdef").toString()).toBe("system:0123456789abcdef checkin");
    expect(encodePing("tok3n").toString()).toBe("ping tok3n");
  });

  it("round-trips checkin and ping", () => {
    expect(decodePublisherMessage(encodeCheckin("ab"))).toEqual({
      kind: "checkin",
      clientName: "ab",
    });
    expect(decodePublisherMessage([encodePing("x1")])).toEqual({ kind: "ping", token: "x1" });
  });

  it("subscriptions end in a space so prefixes cannot match a longer name", () => {
    expect(clientSubscriptions("ab")).toEqual(["system:ab ", "ping "]);
    const abc = encodeCheckin("abc");
    expect(abc.toString().startsWith("system:ab ")).toBe(false);
  });

  it("acts only on the exact topic", () => {
    const msg = decodePublisherMessage(encodeCheckin("abc"));
    expect(isCheckinFor(msg, "abc")).toBe(true);
    expect(isCheckinFor(msg, "ab")).toBe(false);
    expect(isCheckinFor(decodePublisherMessage(encodePing("t")), "abc")).toBe(false);
  });

  it.each([
    ["empty", [text("")], "bad-format"],
    ["no payload", [text("ping")], "bad-format"],
    ["two frames", [text("ping a"), text("b")], "frame-count"],
    ["zero frames", [], "frame-count"],
    ["double space", [text("system:ab  checkin")], "bad-format"],
    ["leading space", [text(" ping x")], "bad-format"],
    ["trailing space", [text("ping x ")], "bad-format"],
    ["trailing newline", [text("system:ab checkin\n")], "bad-format"],
    ["unknown topic", [text("pong x")], "unknown-topic"],
    ["unknown command", [text("system:ab reboot")], "unknown-command"],
    ["empty name", [text("system: checkin")], "bad-client-name"],
    ["name with colon", [text("system:a:b checkin")], "bad-client-name"],
    ["token with space", [text("ping a b")], "bad-token"],
    ["bad utf-8", [Buffer.from([0x70, 0x69, 0x6e, 0x67, 0x20, 0xff])], "bad-utf8"],
    ["too large", [Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x61)], "too-large"],
  ])("refuses %s", async (_label, frames, reason) => {
    expect(await reasonOf(() => decodePublisherMessage(frames as Buffer[]))).toBe(reason);
  });

  it("refuses to encode what it could not decode", async () => {
    expect(await reasonOf(() => encodeCheckin("a b"))).toBe("bad-client-name");
    expect(await reasonOf(() => encodeCheckin("x".repeat(65)))).toBe("bad-client-name");
    expect(await reasonOf(() => encodePing(""))).toBe("bad-token");
  });
});
