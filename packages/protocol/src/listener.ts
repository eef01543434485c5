import {
  CONNECTION_VERSION,
  SIGNED_HELLO_VERSION,
  TOPIC_GOODBYE,
  TOPIC_HELLO,
  TOPIC_HELLO_REQUEST,
  TOPIC_PING,
  TOPIC_PONG,
  UNSIGNED_HELLO_VERSION,
} from "./constants.js";
import { ProtocolError } from "./errors.js";
import { type Frames, singleTextFrame, splitTopic, textFrame } from "./frames.js";
import { assertCurveKey, assertMac, assertNonce, signMessage } from "./signature.js";
import { assertClientName, assertToken } from "./validate.js";

/** The result of the client's last rhn_check run, as reported in a hello. */
export interface LastRun {
  /** Unix time (seconds) the run ended. */
  readonly at: number;
  /** Exit code, or null when it was killed (timeout, signal). */
  readonly exitCode: number | null;
}

/** A signature over (type, client name, nonce) with the shared key; see {@link signMessage}. */
export interface Signature {
  /** The server nonce signed: a challenge (hello) or a ping token (pong, goodbye). */
  readonly nonce: string;
  /** HMAC-SHA256, 64 lowercase hex characters. */
  readonly mac: string;
}

/**
 * osad2 extension: a client announces itself on every (re)connect so the server can
 * mark it online and re-send due work at once. A seed server ignores it. Version 2 is
 * signed (answering a `challenge`); version 1 is the unsigned hello of osad2 0.1.
 */
export interface ClientHello {
  readonly version:
    typeof CONNECTION_VERSION | typeof SIGNED_HELLO_VERSION | typeof UNSIGNED_HELLO_VERSION;
  readonly clientName: string;
  /** The client software's version, e.g. "0.1.0". */
  readonly software: string;
  readonly lastRun: LastRun | null;
  /** Present exactly for versions 2 and 3. */
  readonly signature?: Signature;
  /** Version 3: the CURVE public key (Z85) the client says it connected with; signed. */
  readonly curvePublicKey?: string;
}

/** Which signed protocol a `hello-request` asks for. */
export type HelloRequestVersion = typeof SIGNED_HELLO_VERSION | typeof CONNECTION_VERSION;

/** Messages a client sends over its DEALER to the server's ROUTER (routing id stripped). */
export type ListenerMessage =
  /** The seed's unsigned echo `ping <token>`; its routing id is its name. */
  | { readonly kind: "pong"; readonly token: string }
  | { readonly kind: "hello"; readonly hello: ClientHello }
  /** `hello-request 2|3`: asks for a `challenge` to sign a hello with. */
  | { readonly kind: "hello-request"; readonly version: HelloRequestVersion }
  /** `pong <name> <token> <mac>`: a signed answer to `ping <token>`. */
  | {
      readonly kind: "signed-pong";
      readonly clientName: string;
      readonly token: string;
      readonly mac: string;
    }
  /** `goodbye <name> <nonce> <mac>`: a clean stop (nonce: a recent ping token or challenge). */
  | {
      readonly kind: "goodbye";
      readonly clientName: string;
      readonly nonce: string;
      readonly mac: string;
    };

/** The seed client's answer to `ping <token>`: the same text, echoed back (unsigned). */
export function encodePong(token: string): Buffer {
  return textFrame(`${TOPIC_PING} ${assertToken(token)}`);
}

/** A pong signed with the shared key: the server credits it to `clientName` only if it verifies. */
export function encodeSignedPong(clientName: string, token: string, sharedKey: string): Buffer {
  const mac = signMessage(sharedKey, "pong", assertClientName(clientName), assertToken(token));
  return textFrame(`${TOPIC_PONG} ${clientName} ${token} ${mac}`);
}

/** A signed goodbye: the server takes the client offline at once. */
export function encodeGoodbye(clientName: string, nonce: string, sharedKey: string): Buffer {
  const mac = signMessage(sharedKey, "goodbye", assertClientName(clientName), assertNonce(nonce));
  return textFrame(`${TOPIC_GOODBYE} ${clientName} ${nonce} ${mac}`);
}

/**
 * Asks the server for a `challenge` (the nonce a signed hello needs). Version 3 asks for one
 * connection; a v2 server drops the unknown version without an answer.
 */
export function encodeHelloRequest(version: HelloRequestVersion = SIGNED_HELLO_VERSION): Buffer {
  return textFrame(`${TOPIC_HELLO_REQUEST} ${version}`);
}

/** The unsigned version-1 hello, for seed-format servers (which ignore it) and osad2 0.1 servers. */
export function encodeHello(hello: Omit<ClientHello, "version" | "signature">): Buffer {
  const body = {
    v: UNSIGNED_HELLO_VERSION,
    name: assertClientName(hello.clientName),
    software: hello.software,
    lastRun: hello.lastRun,
  };
  return textFrame(`${TOPIC_HELLO} ${JSON.stringify(body)}`);
}

/** The signed version-2 hello answering `challenge <nonce>`. */
export function encodeSignedHello(
  hello: Omit<ClientHello, "version" | "signature">,
  nonce: string,
  sharedKey: string,
): Buffer {
  const name = assertClientName(hello.clientName);
  const body = {
    v: SIGNED_HELLO_VERSION,
    name,
    software: hello.software,
    lastRun: hello.lastRun,
    nonce: assertNonce(nonce),
    mac: signMessage(sharedKey, "hello", name, nonce),
  };
  return textFrame(`${TOPIC_HELLO} ${JSON.stringify(body)}`);
}

/**
 * The signed version-3 hello answering `challenge 3 <nonce>`: also signs the CURVE public key
 * the client connected with (diagnostics match the connection to its key with it).
 */
export function encodeConnectionHello(
  hello: Omit<ClientHello, "version" | "signature" | "curvePublicKey">,
  nonce: string,
  sharedKey: string,
  curvePublicKey: string,
): Buffer {
  const name = assertClientName(hello.clientName);
  const key = assertCurveKey(curvePublicKey);
  const body = {
    v: CONNECTION_VERSION,
    name,
    software: hello.software,
    lastRun: hello.lastRun,
    nonce: assertNonce(nonce),
    key,
    mac: signMessage(sharedKey, "hello", name, nonce, key),
  };
  return textFrame(`${TOPIC_HELLO} ${JSON.stringify(body)}`);
}

export function encodeListenerMessage(message: ListenerMessage): Buffer {
  switch (message.kind) {
    case "pong":
      return encodePong(message.token);
    case "hello-request":
      return encodeHelloRequest(message.version);
    case "signed-pong":
      return textFrame(
        `${TOPIC_PONG} ${assertClientName(message.clientName)} ${assertToken(message.token)} ${assertMac(message.mac)}`,
      );
    case "goodbye":
      return textFrame(
        `${TOPIC_GOODBYE} ${assertClientName(message.clientName)} ${assertNonce(message.nonce)} ${assertMac(message.mac)}`,
      );
    case "hello": {
      const { hello } = message;
      const body = {
        v: hello.version,
        name: assertClientName(hello.clientName),
        software: hello.software,
        lastRun: hello.lastRun,
        ...(hello.signature === undefined ? {} : { nonce: assertNonce(hello.signature.nonce) }),
        ...(hello.curvePublicKey === undefined
          ? {}
          : { key: assertCurveKey(hello.curvePublicKey) }),
        ...(hello.signature === undefined ? {} : { mac: assertMac(hello.signature.mac) }),
      };
      return textFrame(`${TOPIC_HELLO} ${JSON.stringify(body)}`);
    }
  }
}

/** Decodes one message from a client (without the routing-id frame); throws ProtocolError. */
export function decodeListenerMessage(frames: Frames): ListenerMessage {
  const { topic, payload } = splitTopic(singleTextFrame(frames));
  switch (topic) {
    case TOPIC_PING:
      return { kind: "pong", token: assertToken(payload) };
    case TOPIC_HELLO:
      return { kind: "hello", hello: parseHello(payload) };
    case TOPIC_HELLO_REQUEST:
      if (payload === String(SIGNED_HELLO_VERSION))
        return { kind: "hello-request", version: SIGNED_HELLO_VERSION };
      if (payload === String(CONNECTION_VERSION))
        return { kind: "hello-request", version: CONNECTION_VERSION };
      throw new ProtocolError(
        "unsupported-version",
        `hello-request for version ${JSON.stringify(payload.slice(0, 16))}, not ${SIGNED_HELLO_VERSION} or ${CONNECTION_VERSION}`,
      );
    case TOPIC_PONG: {
      const [clientName, token, mac] = threeFields(payload, "pong <name> <token> <mac>");
      return {
        kind: "signed-pong",
        clientName: assertClientName(clientName),
        token: assertToken(token),
        mac: assertMac(mac),
      };
    }
    case TOPIC_GOODBYE: {
      const [clientName, nonce, mac] = threeFields(payload, "goodbye <name> <nonce> <mac>");
      return {
        kind: "goodbye",
        clientName: assertClientName(clientName),
        nonce: assertNonce(nonce),
        mac: assertMac(mac),
      };
    }
    default:
      throw new ProtocolError(
        "unknown-topic",
        `unknown topic ${JSON.stringify(topic.slice(0, 80))}`,
      );
  }
}

function threeFields(payload: string, shape: string): [string, string, string] {
  const fields = payload.split(" ");
  if (fields.length !== 3) throw new ProtocolError("bad-format", `expected '${shape}'`);
  return fields as [string, string, string];
}

function parseHello(payload: string): ClientHello {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch (cause) {
    throw new ProtocolError("bad-hello", "hello payload is not JSON", { cause });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ProtocolError("bad-hello", "hello payload must be a JSON object");
  }
  const b = body as Record<string, unknown>;
  if (
    b.v !== SIGNED_HELLO_VERSION &&
    b.v !== UNSIGNED_HELLO_VERSION &&
    b.v !== CONNECTION_VERSION
  ) {
    throw new ProtocolError(
      "unsupported-version",
      `hello version ${String(b.v).slice(0, 16)} is not ${UNSIGNED_HELLO_VERSION}, ${SIGNED_HELLO_VERSION} or ${CONNECTION_VERSION}`,
    );
  }
  if (typeof b.name !== "string")
    throw new ProtocolError("bad-hello", "hello.name must be a string");
  if (typeof b.software !== "string" || b.software.length > 64) {
    throw new ProtocolError(
      "bad-hello",
      "hello.software must be a string of at most 64 characters",
    );
  }
  const hello = {
    clientName: assertClientName(b.name),
    software: b.software,
    lastRun: parseLastRun(b.lastRun),
  };
  if (b.v === UNSIGNED_HELLO_VERSION) return { version: UNSIGNED_HELLO_VERSION, ...hello };
  if (typeof b.nonce !== "string" || typeof b.mac !== "string") {
    throw new ProtocolError("bad-hello", "a signed hello needs string nonce and mac");
  }
  const signature = { nonce: assertNonce(b.nonce), mac: assertMac(b.mac) };
  if (b.v === SIGNED_HELLO_VERSION) return { version: SIGNED_HELLO_VERSION, ...hello, signature };
  if (typeof b.key !== "string") {
    throw new ProtocolError("bad-hello", "a version 3 hello needs the client's CURVE key");
  }
  return {
    version: CONNECTION_VERSION,
    ...hello,
    signature,
    curvePublicKey: assertCurveKey(b.key),
  };
}

function parseLastRun(value: unknown): LastRun | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ProtocolError("bad-hello", "hello.lastRun must be an object or null");
  }
  const { at, exitCode } = value as Record<string, unknown>;
  if (typeof at !== "number" || !Number.isFinite(at)) {
    throw new ProtocolError("bad-hello", "hello.lastRun.at must be a number");
  }
  if (exitCode !== null && !(typeof exitCode === "number" && Number.isInteger(exitCode))) {
    throw new ProtocolError("bad-hello", "hello.lastRun.exitCode must be an integer or null");
  }
  return { at, exitCode: exitCode as number | null };
}
