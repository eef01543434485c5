import type * as zmq from "zeromq";

/** The installed libzmq was built without CURVE (libsodium / tweetnacl); osad2 refuses to run unencrypted. */
export class CurveUnavailableError extends Error {
  override readonly name = "CurveUnavailableError";

  constructor() {
    super(
      "this zeromq build has no CURVE support; reinstall the zeromq package with its prebuilt binary (npm rebuild zeromq)",
    );
  }
}

/**
 * @param capability the service's own `zmq.capability` (this module never loads zeromq itself).
 * @throws {CurveUnavailableError} when the loaded zeromq cannot encrypt.
 */
export function assertCurveAvailable(capability: Partial<typeof zmq.capability>): void {
  if (capability.curve !== true) throw new CurveUnavailableError();
}
