import { MAX_MESSAGE_BYTES } from "./constants.js";
import { ProtocolError } from "./errors.js";
import type { Frames } from "./frames.js";

/**
 * The proxy link (osad2 0.4): what an osad2-proxy's DEALER and its parent's ROUTER (the server's
 * proxy_port, or a parent proxy's) say to each other. One link carries every client connection
 * behind the proxy; each is named by a connection id the proxy hands out (nested, `3.17`, when it
 * comes through a child proxy). The clients' own frames travel unchanged in a second frame, so
 * the server verifies their signed hello, pong and goodbye itself: a proxy can carry a client's
 * words but never speak for it. Every message is frame 0, an ASCII command line (one space
 * between fields), and for `from`/`to` frame 1, the client's frame.
 */
export const PROXY_LINK_VERSION = 1;
/** Default port of the server's (and a proxy's) proxy-link ROUTER. */
export const DEFAULT_PROXY_PORT = 5558;
/** A command line is at most this long (the longest, `open`, is under 800 bytes). */
export const MAX_LINK_COMMAND_BYTES = 1024;
/**
 * A carried client frame is at most this long: twice the protocol's limit, as the server's
 * ROUTER accepts, so an oversized client frame reaches the server's decoder and is counted there.
 */
export const MAX_LINK_PAYLOAD_BYTES = 2 * MAX_MESSAGE_BYTES;
/** Proxies between a client and the server at most (path length, connection-id depth). */
export const MAX_PROXY_DEPTH = 8;
/** A proxy says `alive` this often; its parent drops the link after {@link LINK_SILENCE_MS} of silence. */
export const LINK_KEEPALIVE_MS = 1_000;
export const LINK_SILENCE_MS = 3_500;

/** Whose key an `admit?` asks about: a client's (public_keys/) or a child proxy's (proxies/). */
export type KeyKind = "client" | "proxy";

/** Proxy → parent. */
export type LinkUpMessage =
  /** First message of each link session (every new upstream connection, and after `relink`). */
  | {
      readonly kind: "link";
      readonly version: typeof PROXY_LINK_VERSION;
      readonly proxyName: string;
      readonly session: string;
    }
  /** A client connection behind the proxy: new, or re-announced when a link session starts. */
  | {
      readonly kind: "open";
      readonly conn: string;
      /** Proxy names from the parent's side down to the client's proxy, e.g. `dmz/branch7`. */
      readonly path: readonly string[];
      /** The client's IP address as its proxy saw it; null when it could not tell. */
      readonly address: string | null;
      /** The client's CURVE public key (Z85) when its proxy could attribute one; diagnostics. */
      readonly publicKey: string | null;
    }
  /** A frame the client sent, unchanged. */
  | { readonly kind: "from"; readonly conn: string; readonly payload: Buffer }
  /** The client connection is gone. */
  | { readonly kind: "close"; readonly conn: string }
  /** May this key connect? (the proxy's ZAP handler forwards it). */
  | {
      readonly kind: "admit?";
      readonly query: string;
      readonly keyKind: KeyKind;
      readonly publicKey: string;
    }
  /** Keep-alive of the session. */
  | { readonly kind: "alive"; readonly session: string };

/** Parent → proxy. */
export type LinkDownMessage =
  | { readonly kind: "linked"; readonly session: string }
  /** A frame for the client of `conn`, to pass on unchanged. */
  | { readonly kind: "to"; readonly conn: string; readonly payload: Buffer }
  | { readonly kind: "admit"; readonly query: string; readonly allow: boolean }
  /** This key left the allow-list: forget any cached decision and cut its connections. */
  | { readonly kind: "revoked"; readonly keyKind: KeyKind; readonly publicKey: string }
  /** The parent does not know this session (any more): start a new one and re-announce. */
  | { readonly kind: "relink" };

const CONN_COMPONENT = /^(0|[1-9][0-9]{0,9})$/;
const PROXY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
const SESSION = /^[A-Za-z0-9_-]{1,64}$/;
const ADDRESS = /^[\x21-\x7e]{1,64}$/;
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

function fieldError(what: string, value: string): ProtocolError {
  return new ProtocolError("bad-link-field", `${what} ${JSON.stringify(value.slice(0, 80))}`);
}

/** True for a connection id: 1-{@link MAX_PROXY_DEPTH} dot-separated uint32 decimals, e.g. `3.17`. */
export function isValidConnectionId(conn: string): boolean {
  if (conn.length === 0 || conn.length > 128) return false;
  const parts = conn.split(".");
  return (
    parts.length <= MAX_PROXY_DEPTH &&
    parts.every((p) => CONN_COMPONENT.test(p) && Number(p) <= 0xffff_ffff)
  );
}

export function assertConnectionId(conn: string): string {
  if (!isValidConnectionId(conn))
    throw fieldError("connection id must be 1-8 dot-separated uint32 decimals, got", conn);
  return conn;
}

/** Proxy names are key names (proxies/NAME.key): `[A-Za-z0-9._-]{1,64}`, not starting with `.`. */
export function isValidProxyName(name: string): boolean {
  return PROXY_NAME.test(name);
}

function assertProxyName(name: string): string {
  if (!isValidProxyName(name)) throw fieldError("proxy name", name);
  return name;
}

function assertSession(session: string): string {
  if (!SESSION.test(session))
    throw fieldError("session must be 1-64 of A-Z a-z 0-9 _ -, got", session);
  return session;
}

function assertKey(key: string): string {
  if (!Z85_KEY.test(key)) throw fieldError("CURVE key must be 40 Z85 characters, got", key);
  return key;
}

function assertKeyKind(kind: string): KeyKind {
  if (kind !== "client" && kind !== "proxy") throw fieldError("key kind (client|proxy)", kind);
  return kind;
}

function parsePath(text: string): string[] {
  const names = text.split("/");
  if (names.length > MAX_PROXY_DEPTH)
    throw fieldError(`proxy path longer than ${MAX_PROXY_DEPTH}:`, text);
  return names.map(assertProxyName);
}

/** The connection id `conn` of a child link `link`, as the parent forwards it upstream. */
export function nestConnectionId(link: number, conn: string): string {
  return assertConnectionId(`${link}.${conn}`);
}

/** `3.17` → {link: 3, rest: "17"}; a plain id (a local client) → {link: undefined, rest: id}. */
export function splitConnectionId(conn: string): { link: number | undefined; rest: string } {
  const dot = conn.indexOf(".");
  if (dot < 0) return { link: undefined, rest: conn };
  return { link: Number(conn.slice(0, dot)), rest: conn.slice(dot + 1) };
}

function commandFrame(text: string): Buffer {
  const frame = Buffer.from(text, "latin1");
  if (frame.byteLength > MAX_LINK_COMMAND_BYTES)
    throw new ProtocolError("too-large", `link command of ${frame.byteLength} bytes`);
  return frame;
}

function payloadFrame(payload: Uint8Array): Buffer {
  if (payload.byteLength > MAX_LINK_PAYLOAD_BYTES)
    throw new ProtocolError(
      "too-large",
      `carried frame of ${payload.byteLength} bytes exceeds ${MAX_LINK_PAYLOAD_BYTES}`,
    );
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
}

/** Encodes one proxy → parent message as its frames. Throws ProtocolError on invalid fields. */
export function encodeLinkUp(message: LinkUpMessage): Buffer[] {
  switch (message.kind) {
    case "link":
      return [
        commandFrame(
          `link ${PROXY_LINK_VERSION} ${assertProxyName(message.proxyName)} ${assertSession(message.session)}`,
        ),
      ];
    case "open": {
      if (message.path.length === 0 || message.path.length > MAX_PROXY_DEPTH)
        throw fieldError("proxy path length", String(message.path.length));
      const path = message.path.map(assertProxyName).join("/");
      const address = message.address ?? "-";
      if (!ADDRESS.test(address)) throw fieldError("address", address);
      const key = message.publicKey === null ? "-" : assertKey(message.publicKey);
      return [commandFrame(`open ${assertConnectionId(message.conn)} ${path} ${address} ${key}`)];
    }
    case "from":
      return [
        commandFrame(`from ${assertConnectionId(message.conn)}`),
        payloadFrame(message.payload),
      ];
    case "close":
      return [commandFrame(`close ${assertConnectionId(message.conn)}`)];
    case "admit?":
      return [
        commandFrame(
          `admit? ${assertConnectionId(message.query)} ${assertKeyKind(message.keyKind)} ${assertKey(message.publicKey)}`,
        ),
      ];
    case "alive":
      return [commandFrame(`alive ${assertSession(message.session)}`)];
  }
}

/** Encodes one parent → proxy message as its frames. Throws ProtocolError on invalid fields. */
export function encodeLinkDown(message: LinkDownMessage): Buffer[] {
  switch (message.kind) {
    case "linked":
      return [commandFrame(`linked ${assertSession(message.session)}`)];
    case "to":
      return [
        commandFrame(`to ${assertConnectionId(message.conn)}`),
        payloadFrame(message.payload),
      ];
    case "admit":
      return [
        commandFrame(
          `admit ${assertConnectionId(message.query)} ${message.allow ? "allow" : "deny"}`,
        ),
      ];
    case "revoked":
      return [
        commandFrame(`revoked ${assertKeyKind(message.keyKind)} ${assertKey(message.publicKey)}`),
      ];
    case "relink":
      return [commandFrame("relink")];
  }
}

/** Splits frame 0 into command and fields; checks frame count, sizes and the ASCII form. */
function parseCommand(
  frames: Frames,
  withPayload: ReadonlySet<string>,
): { command: string; fields: string[]; payload: Buffer | undefined } {
  const list: readonly Uint8Array[] = frames instanceof Uint8Array ? [frames] : frames;
  const head = list[0];
  if (head === undefined) throw new ProtocolError("frame-count", "expected 1 or 2 frames, got 0");
  if (head.byteLength > MAX_LINK_COMMAND_BYTES)
    throw new ProtocolError("too-large", `link command of ${head.byteLength} bytes`);
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  // Printable ASCII and single spaces only: no UTF-8, no control characters.
  for (const byte of bytes) {
    if (byte < 0x20 || byte > 0x7e) {
      throw new ProtocolError(
        byte > 0x7e ? "bad-utf8" : "bad-format",
        "a link command is printable ASCII",
      );
    }
  }
  const text = bytes.toString("latin1");
  const fields = text.split(" ");
  if (fields.some((f) => f.length === 0))
    throw new ProtocolError("bad-format", "extra whitespace in link command");
  const command = fields.shift() as string;
  const expected = withPayload.has(command) ? 2 : 1;
  if (list.length !== expected) {
    throw new ProtocolError(
      "frame-count",
      `link command ${JSON.stringify(command.slice(0, 16))} takes ${expected} frame(s), got ${list.length}`,
    );
  }
  const last = list[1];
  if (last !== undefined && last.byteLength > MAX_LINK_PAYLOAD_BYTES) {
    throw new ProtocolError(
      "too-large",
      `carried frame of ${last.byteLength} bytes exceeds ${MAX_LINK_PAYLOAD_BYTES}`,
    );
  }
  const payload = last === undefined ? undefined : Buffer.from(last);
  return { command, fields, payload };
}

function arity(command: string, fields: readonly string[], n: number): void {
  if (fields.length !== n)
    throw new ProtocolError("bad-format", `link command ${command} takes ${n} field(s)`);
}

const UP_PAYLOAD = new Set(["from"]);
const DOWN_PAYLOAD = new Set(["to"]);

/** Decodes one proxy → parent message (routing id stripped); throws ProtocolError. */
export function decodeLinkUp(frames: Frames): LinkUpMessage {
  const { command, fields, payload } = parseCommand(frames, UP_PAYLOAD);
  switch (command) {
    case "link": {
      arity(command, fields, 3);
      const [version, name, session] = fields as [string, string, string];
      if (version !== String(PROXY_LINK_VERSION))
        throw new ProtocolError(
          "unsupported-version",
          `proxy link version ${JSON.stringify(version.slice(0, 16))}, not ${PROXY_LINK_VERSION}`,
        );
      return {
        kind: "link",
        version: PROXY_LINK_VERSION,
        proxyName: assertProxyName(name),
        session: assertSession(session),
      };
    }
    case "open": {
      arity(command, fields, 4);
      const [conn, path, address, key] = fields as [string, string, string, string];
      if (!ADDRESS.test(address)) throw fieldError("address", address);
      return {
        kind: "open",
        conn: assertConnectionId(conn),
        path: parsePath(path),
        address: address === "-" ? null : address,
        publicKey: key === "-" ? null : assertKey(key),
      };
    }
    case "from":
      arity(command, fields, 1);
      return {
        kind: "from",
        conn: assertConnectionId(fields[0] as string),
        payload: payload as Buffer,
      };
    case "close":
      arity(command, fields, 1);
      return { kind: "close", conn: assertConnectionId(fields[0] as string) };
    case "admit?": {
      arity(command, fields, 3);
      const [query, kind, key] = fields as [string, string, string];
      return {
        kind: "admit?",
        query: assertConnectionId(query),
        keyKind: assertKeyKind(kind),
        publicKey: assertKey(key),
      };
    }
    case "alive":
      arity(command, fields, 1);
      return { kind: "alive", session: assertSession(fields[0] as string) };
    default:
      throw new ProtocolError(
        "unknown-command",
        `unknown link command ${JSON.stringify(command.slice(0, 32))}`,
      );
  }
}

/** Decodes one parent → proxy message; throws ProtocolError. */
export function decodeLinkDown(frames: Frames): LinkDownMessage {
  const { command, fields, payload } = parseCommand(frames, DOWN_PAYLOAD);
  switch (command) {
    case "linked":
      arity(command, fields, 1);
      return { kind: "linked", session: assertSession(fields[0] as string) };
    case "to":
      arity(command, fields, 1);
      return {
        kind: "to",
        conn: assertConnectionId(fields[0] as string),
        payload: payload as Buffer,
      };
    case "admit": {
      arity(command, fields, 2);
      const [query, verdict] = fields as [string, string];
      if (verdict !== "allow" && verdict !== "deny") throw fieldError("verdict", verdict);
      return { kind: "admit", query: assertConnectionId(query), allow: verdict === "allow" };
    }
    case "revoked": {
      arity(command, fields, 2);
      const [kind, key] = fields as [string, string];
      return { kind: "revoked", keyKind: assertKeyKind(kind), publicKey: assertKey(key) };
    }
    case "relink":
      arity(command, fields, 0);
      return { kind: "relink" };
    default:
      throw new ProtocolError(
        "unknown-command",
        `unknown link command ${JSON.stringify(command.slice(0, 32))}`,
      );
  }
}
