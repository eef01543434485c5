import { PROTOCOL_VERSION, TOPIC_HELLO, TOPIC_PING } from "./constants.js";
import { ProtocolError } from "./errors.js";
import { type Frames, singleTextFrame, splitTopic, textFrame } from "./frames.js";
import { assertClientName, assertToken } from "./validate.js";

/** The result of the client's last rhn_check run, as reported in a hello. */
export interface LastRun {
  /** Unix time (seconds) the run ended. */
  readonly at: number;
  /** Exit code, or null when it was killed (timeout, signal). */
  readonly exitCode: number | null;
}

/**
 * osad2 extension: a client announces itself on every (re)connect so the server can
 * mark it online and re-send due work at once. A seed server ignores it.
 */
export interface ClientHello {
  readonly version: typeof PROTOCOL_VERSION;
  readonly clientName: string;
  /** The client software's version, e.g. "0.1.0". */
  readonly software: string;
  readonly lastRun: LastRun | null;
}

/** Messages a client sends over its DEALER to the server's ROUTER (routing id stripped). */
export type ListenerMessage =
  | { readonly kind: "pong"; readonly token: string }
  | { readonly kind: "hello"; readonly hello: ClientHello };

/** The seed client's answer to `ping <token>`: the same text, echoed back. */
export function encodePong(token: string): Buffer {
  return textFrame(`${TOPIC_PING} ${assertToken(token)}`);
}

export function encodeHello(hello: Omit<ClientHello, "version">): Buffer {
  const body = {
    v: PROTOCOL_VERSION,
    name: assertClientName(hello.clientName),
    software: hello.software,
    lastRun: hello.lastRun,
  };
  return textFrame(`${TOPIC_HELLO} ${JSON.stringify(body)}`);
}

export function encodeListenerMessage(message: ListenerMessage): Buffer {
  return message.kind === "pong" ? encodePong(message.token) : encodeHello(message.hello);
}

/** Decodes one message from a client (without the routing-id frame); throws ProtocolError. */
export function decodeListenerMessage(frames: Frames): ListenerMessage {
  const { topic, payload } = splitTopic(singleTextFrame(frames));
  if (topic === TOPIC_PING) return { kind: "pong", token: assertToken(payload) };
  if (topic === TOPIC_HELLO) return { kind: "hello", hello: parseHello(payload) };
  throw new ProtocolError("unknown-topic", `unknown topic ${JSON.stringify(topic.slice(0, 80))}`);
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
  if (b.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      "unsupported-version",
      `hello version ${String(b.v)} is not ${PROTOCOL_VERSION}`,
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
  return {
    version: PROTOCOL_VERSION,
    clientName: assertClientName(b.name),
    software: b.software,
    lastRun: parseLastRun(b.lastRun),
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
