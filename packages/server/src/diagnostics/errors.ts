/** Errors of `doctor`, `systems` and the control socket. */

/** The control socket could not be served or read. */
export class ControlSocketError extends Error {
  override readonly name = "ControlSocketError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`control socket ${path}: ${detail}`, options);
    this.path = path;
  }
}

/** doctor's SYSTEM matches nothing, or several systems. */
export class UnknownSystemError extends Error {
  override readonly name = "UnknownSystemError";
  readonly reference: string;
  /** Server ids of the systems it matched when there were several. */
  readonly candidates: readonly number[];

  constructor(reference: string, candidates: readonly number[] = []) {
    super(
      candidates.length === 0
        ? `no system ${JSON.stringify(reference)}: not a server id, profile name (rhnServer.name), push client name (rhnPushClient.name) or client key name (public_keys/NAME.key)`
        : `${JSON.stringify(reference)} matches systems ${candidates.join(", ")}: give the server id`,
    );
    this.reference = reference;
    this.candidates = candidates;
  }
}
