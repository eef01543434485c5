import { MAX_MESSAGE_BYTES } from "./constants.js";
import { ProtocolError } from "./errors.js";

/** What a socket hands us: one frame, or the frames of one multipart message. */
export type Frames = Uint8Array | readonly Uint8Array[];

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Checks the frame count and size and decodes strict UTF-8; every message is one text frame. */
export function singleTextFrame(frames: Frames): string {
  const list: readonly Uint8Array[] = frames instanceof Uint8Array ? [frames] : frames;
  if (list.length !== 1) {
    throw new ProtocolError("frame-count", `expected 1 frame, got ${list.length}`);
  }
  const frame = list[0] as Uint8Array;
  if (frame.byteLength > MAX_MESSAGE_BYTES) {
    throw new ProtocolError(
      "too-large",
      `frame of ${frame.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`,
    );
  }
  try {
    return utf8.decode(frame);
  } catch (cause) {
    throw new ProtocolError("bad-utf8", "frame is not valid UTF-8", { cause });
  }
}

/** Splits `<topic> <payload>` at the single space; no leading, trailing or doubled spaces. */
export function splitTopic(text: string): { topic: string; payload: string } {
  const space = text.indexOf(" ");
  if (space <= 0 || space === text.length - 1) {
    throw new ProtocolError("bad-format", "expected '<topic> <payload>'");
  }
  const topic = text.slice(0, space);
  const payload = text.slice(space + 1);
  if (payload.startsWith(" ") || /\s$/.test(payload) || /[\r\n\t\0]/.test(text)) {
    throw new ProtocolError("bad-format", "extra whitespace or control characters in message");
  }
  return { topic, payload };
}

export function textFrame(text: string): Buffer {
  const frame = Buffer.from(text, "utf8");
  if (frame.byteLength > MAX_MESSAGE_BYTES) {
    throw new ProtocolError(
      "too-large",
      `message of ${frame.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`,
    );
  }
  return frame;
}
