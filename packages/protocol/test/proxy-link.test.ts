import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_LINK_COMMAND_BYTES,
  MAX_LINK_PAYLOAD_BYTES,
  ProtocolError,
  decodeLinkDown,
  decodeLinkUp,
  encodeLinkDown,
  encodeLinkUp,
  encodeSignedPong,
  isValidConnectionId,
  nestConnectionId,
  splitConnectionId,
  type LinkDownMessage,
  type LinkUpMessage,
} from "../src/index.js";

const KEY = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const b = (s: string): Buffer => Buffer.from(s, "latin1");

function reasonOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (error instanceof ProtocolError) return error.reason;
    throw error;
  }
  return "decoded";
}

describe("proxy link: round trips", () => {
  const pong = encodeSignedPong("abc", "t0", "k");
  const up: LinkUpMessage[] = [
    { kind: "link", version: 1, proxyName: "branch7", session: "s-1_A" },
    { kind: "open", conn: "17", path: ["dmz"], address: "10.0.0.5", publicKey: KEY },
    { kind: "open", conn: "3.17", path: ["dmz", "branch7"], address: null, publicKey: null },
    { kind: "from", conn: "0", payload: pong },
    { kind: "from", conn: "1.2.3", payload: Buffer.alloc(MAX_LINK_PAYLOAD_BYTES, 0xff) },
    { kind: "close", conn: "4294967295" },
    { kind: "admit?", query: "2.9", keyKind: "client", publicKey: KEY },
    { kind: "admit?", query: "1", keyKind: "proxy", publicKey: KEY },
    { kind: "alive", session: "abc" },
  ];
  const down: LinkDownMessage[] = [
    { kind: "linked", session: "abc" },
    { kind: "to", conn: "5", payload: pong },
    { kind: "admit", query: "7", allow: true },
    { kind: "admit", query: "1.7", allow: false },
    { kind: "revoked", keyKind: "client", publicKey: KEY },
    { kind: "relink" },
  ];
  it.each(up.map((m) => [m.kind, m] as const))("up %s", (_kind, message) => {
    expect(decodeLinkUp(encodeLinkUp(message))).toEqual(message);
  });
  it.each(down.map((m) => [m.kind, m] as const))("down %s", (_kind, message) => {
    expect(decodeLinkDown(encodeLinkDown(message))).toEqual(message);
  });
  it("carries the client's frame byte for byte, even one the protocol would refuse", () => {
    const odd = Buffer.from([0, 0xc3, 0x28, 0x20, 0x20]);
    const decoded = decodeLinkUp(encodeLinkUp({ kind: "from", conn: "1", payload: odd }));
    expect(decoded.kind === "from" && decoded.payload.equals(odd)).toBe(true);
  });
});

describe("proxy link: strict validation (table)", () => {
  const rows: [string, Buffer[], string][] = [
    ["no frames", [], "frame-count"],
    ["payload missing", [b("from 1")], "frame-count"],
    ["payload where none belongs", [b("close 1"), b("x")], "frame-count"],
    ["oversized command", [Buffer.alloc(MAX_LINK_COMMAND_BYTES + 1, 0x61)], "too-large"],
    ["oversized payload", [b("from 1"), Buffer.alloc(MAX_LINK_PAYLOAD_BYTES + 1)], "too-large"],
    ["UTF-8 in a command", [Buffer.from("close ü", "utf8")], "bad-utf8"],
    ["control character", [b("close 1\n")], "bad-format"],
    ["double space", [b("close  1")], "bad-format"],
    ["trailing space", [b("close 1 ")], "bad-format"],
    ["unknown command", [b("hello 1")], "unknown-command"],
    ["link version 2", [b("link 2 dmz s")], "unsupported-version"],
    ["bad proxy name", [b("link 1 .hidden s")], "bad-link-field"],
    ["bad session", [b("link 1 dmz s:s")], "bad-link-field"],
    ["leading zero id", [b("close 01")], "bad-link-field"],
    ["id past uint32", [b("close 4294967296")], "bad-link-field"],
    ["empty id component", [b("close 1..2")], "bad-link-field"],
    ["nine levels", [b("close 1.2.3.4.5.6.7.8.9")], "bad-link-field"],
    ["path of nine", [b("open 1 a/b/c/d/e/f/g/h/i - -")], "bad-link-field"],
    ["empty path element", [b("open 1 a//b - -")], "bad-link-field"],
    ["short key", [b("open 1 a - abc")], "bad-link-field"],
    ["key kind", [b(`admit? 1 server ${KEY}`)], "bad-link-field"],
    ["missing field", [b("admit? 1 client")], "bad-format"],
    ["verdict", [b("admit 1 maybe")], "bad-link-field"],
  ];
  it.each(rows)("%s", (_what, frames, reason) => {
    const decode = _what === "verdict" ? decodeLinkDown : decodeLinkUp;
    expect(reasonOf(() => decode(frames))).toBe(reason);
  });
  it("down: relink takes no field; to needs its payload", () => {
    expect(reasonOf(() => decodeLinkDown([b("relink now")]))).toBe("bad-format");
    expect(reasonOf(() => decodeLinkDown([b("to 1")]))).toBe("frame-count");
    expect(reasonOf(() => decodeLinkDown([b("from 1")]))).toBe("unknown-command");
  });
  it("encoders refuse what decoders refuse", () => {
    expect(reasonOf(() => encodeLinkUp({ kind: "close", conn: "a" }))).toBe("bad-link-field");
    expect(
      reasonOf(() =>
        encodeLinkUp({ kind: "open", conn: "1", path: [], address: null, publicKey: null }),
      ),
    ).toBe("bad-link-field");
    expect(
      reasonOf(() =>
        encodeLinkUp({ kind: "open", conn: "1", path: ["a"], address: "a b", publicKey: null }),
      ),
    ).toBe("bad-link-field");
  });
});

describe("proxy link: connection ids nest", () => {
  it("nest and split", () => {
    expect(nestConnectionId(3, "17")).toBe("3.17");
    expect(splitConnectionId("3.17")).toEqual({ link: 3, rest: "17" });
    expect(splitConnectionId("2.3.17")).toEqual({ link: 2, rest: "3.17" });
    expect(splitConnectionId("17")).toEqual({ link: undefined, rest: "17" });
    expect(() => nestConnectionId(1, "1.2.3.4.5.6.7.8")).toThrow(ProtocolError);
  });
  it("ids are validated", () => {
    expect(isValidConnectionId("0")).toBe(true);
    expect(isValidConnectionId("")).toBe(false);
    expect(isValidConnectionId("-1")).toBe(false);
  });
});

describe("proxy link decoders never throw anything but ProtocolError", () => {
  const commands = [
    "link",
    "open",
    "from",
    "close",
    "admit?",
    "alive",
    "linked",
    "to",
    "admit",
    "revoked",
    "relink",
    "",
  ];
  const frame = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc
      .tuple(
        fc.constantFrom(...commands),
        fc.array(
          fc.oneof(
            fc.constantFrom(
              "1",
              "0",
              "3.17",
              "dmz/b",
              "-",
              KEY,
              "client",
              "proxy",
              "allow",
              "",
              " ",
            ),
            fc.string({ maxLength: 20 }),
          ),
          { maxLength: 5 },
        ),
      )
      .map(([c, f]) => Buffer.from([c, ...f].join(" "), "utf8")),
  );
  const frames = fc.array(frame, { maxLength: 3 });
  for (const [name, decode] of [
    ["up", decodeLinkUp],
    ["down", decodeLinkDown],
  ] as const) {
    it(`${name} decoder, 30,000 random inputs`, () => {
      fc.assert(
        fc.property(frames, (f) => {
          try {
            decode(f);
          } catch (error) {
            if (!(error instanceof ProtocolError)) throw error;
          }
        }),
        { numRuns: 30_000 },
      );
    });
  }
});
