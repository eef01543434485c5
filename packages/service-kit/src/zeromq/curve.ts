import * as zmq from "zeromq";

/** The installed libzmq was built without CURVE (libsodium / tweetnacl); osad2 refuses to run unencrypted. */
export class CurveUnavailableError extends Error {
  override readonly name = "CurveUnavailableError";

  constructor() {
    super(
      "this zeromq build has no CURVE support; reinstall the zeromq package with its prebuilt binary (npm rebuild zeromq)",
    );
  }
}

/** @throws {CurveUnavailableError} when the loaded zeromq cannot encrypt. */
export function assertCurveAvailable(): void {
  if (zmq.capability.curve !== true) throw new CurveUnavailableError();
}
