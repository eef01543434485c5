import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ProtocolError,
  decodeListenerMessage,
  decodePublisherMessage,
  decodeConnectionMessage,
  decodeServerReply,
  encodeCheckin,
  encodePing,
} from "../src/index.js";

// Either a decoded message or a ProtocolError: any other exception is a bug.
function onlyProtocolErrors(
  decode: (frames: Uint8Array[]) => unknown,
  frames: Uint8Array[],
): boolean {
  try {
    decode(frames);
    return true;
  } catch (error) {
    if (error instanceof ProtocolError) return true;
    throw error;
  }
}

const frameLike = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ maxLength: 120 }).map((s) => Buffer.from(s, "utf8")),
  fc
    .tuple(
      fc.constantFrom(
        "ping",
        "system:",
        "hello",
        "system:ab",
        "pong",
        "",
        "hello-request",
        "goodbye",
        "challenge",
        "unknown-client",
        "refused",
      ),
      fc.constantFrom(" ", "  ", "", "\n"),
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.json({ maxDepth: 2 }),
        // Near-valid signed fields: name, token/nonce and a 64-hex mac in any combination.
        fc
          .array(
            fc.oneof(
              fc.stringMatching(/^[a-f0-9]{1,70}$/),
              fc.constantFrom("2", "3", "ab", "unsigned", "stale-nonce", " "),
            ),
            { maxLength: 4 },
          )
          .map((parts) => parts.join(" ")),
        fc
          .record({
            v: fc.constantFrom(1, 2, 3, "2"),
            name: fc.constantFrom("ab", "a b", 7),
            software: fc.constantFrom("x", 1),
            nonce: fc.oneof(fc.constant("n0"), fc.string({ maxLength: 5 })),
            mac: fc.oneof(fc.constant("a".repeat(64)), fc.string({ maxLength: 66 })),
            key: fc.oneof(
              fc.constant("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"),
              fc.string({ maxLength: 42 }),
            ),
          })
          .map((o) => JSON.stringify(o)),
      ),
    )
    .map(([a, b, c]) => Buffer.from(a + b + c, "utf8")),
);
const framesArb = fc.array(frameLike, { minLength: 0, maxLength: 3 });

describe("decoders never throw anything but ProtocolError", () => {
  it("publisher decoder, 60,000 random inputs", () => {
    fc.assert(
      fc.property(framesArb, (f) => onlyProtocolErrors(decodePublisherMessage, f)),
      {
        numRuns: 60_000,
      },
    );
  });

  it("listener decoder, 60,000 random inputs", () => {
    fc.assert(
      fc.property(framesArb, (f) => onlyProtocolErrors(decodeListenerMessage, f)),
      {
        numRuns: 60_000,
      },
    );
  });

  it("server-reply decoder, 60,000 random inputs", () => {
    fc.assert(
      fc.property(framesArb, (f) => onlyProtocolErrors(decodeServerReply, f)),
      { numRuns: 60_000 },
    );
  });

  it("connection (v3) decoder, 30,000 random inputs", () => {
    fc.assert(
      fc.property(framesArb, (f) => onlyProtocolErrors(decodeConnectionMessage, f)),
      { numRuns: 30_000 },
    );
  });

  it("every valid name and token round-trips", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
    const token = fc.stringMatching(/^[\x21-\x7e]{1,128}$/);
    fc.assert(
      fc.property(name, token, (n, t) => {
        expect(decodePublisherMessage(encodeCheckin(n))).toEqual({
          kind: "checkin",
          clientName: n,
        });
        expect(decodePublisherMessage(encodePing(t))).toEqual({ kind: "ping", token: t });
      }),
      { numRuns: 5_000 },
    );
  });
});
