import { caught } from "@osad2/test-helpers";
import { describe, expect, it } from "vitest";
import {
  ProtocolError,
  decodeListenerMessage,
  encodeHello,
  encodePing,
  encodePong,
} from "../src/index.js";

const text = (s: string) => Buffer.from(s, "utf8");

describe("listener messages", () => {
  it("a pong is the ping echoed verbatim, as the seed client does", () => {
    expect(encodePong("abc123").equals(encodePing("abc123"))).toBe(true);
    expect(decodeListenerMessage(encodePong("abc123"))).toEqual({ kind: "pong", token: "abc123" });
  });

  it("round-trips a hello with and without a last run", () => {
    const lastRun = { at: 1_700_000_000, exitCode: 0 };
    const frame = encodeHello({ clientName: "0123456789abcdef", software: "0.1.0", lastRun });
    expect(frame.toString().startsWith("hello {")).toBe(true);
    expect(decodeListenerMessage(frame)).toEqual({
      kind: "hello",
      hello: { version: 1, clientName: "0123456789abcdef", software: "0.1.0", lastRun },
    });
    const none = decodeListenerMessage(
      encodeHello({ clientName: "a", software: "x", lastRun: null }),
    );
    expect(none.kind === "hello" && none.hello.lastRun).toBe(null);
  });

  it.each([
    ["not json", 'hello {"v":1', "bad-hello"],
    ["an array", "hello [1]", "bad-hello"],
    ["future version", 'hello {"v":4,"name":"a","software":"x"}', "unsupported-version"],
    ["version 3 without a signature", 'hello {"v":3,"name":"a","software":"x"}', "bad-hello"],
    ["version 2 without a signature", 'hello {"v":2,"name":"a","software":"x"}', "bad-hello"],
    ["bad name", 'hello {"v":1,"name":"a b","software":"x"}', "bad-client-name"],
    ["no software", 'hello {"v":1,"name":"a"}', "bad-hello"],
    ["bad lastRun", 'hello {"v":1,"name":"a","software":"x","lastRun":{"at":"now"}}', "bad-hello"],
    [
      "fractional exit code",
      'hello {"v":1,"name":"a","software":"x","lastRun":{"at":1,"exitCode":0.5}}',
      "bad-hello",
    ],
    ["checkin on the listener", "system:a checkin", "unknown-topic"],
  ])("refuses %s", async (_label, input, reason) => {
    const error = await caught(() => decodeListenerMessage(text(input)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).reason).toBe(reason);
  });
});
