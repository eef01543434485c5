/** Why a frame was refused; callers branch on this, people read the message. */
export type ProtocolErrorReason =
  | "frame-count"
  | "too-large"
  | "bad-utf8"
  | "bad-format"
  | "unknown-topic"
  | "unknown-command"
  | "bad-client-name"
  | "bad-token"
  | "bad-hello"
  | "unsupported-version"
  | "bad-signature-format"
  | "bad-reply"
  /** A proxy-link field (connection id, proxy name, session, key, …) of the wrong form. */
  | "bad-link-field";

/** Anything on the wire that osad2 does not understand. Never thrown for any other reason. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly reason: ProtocolErrorReason;

  constructor(reason: ProtocolErrorReason, detail: string, options?: { cause?: unknown }) {
    super(`invalid osad2 message (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}
