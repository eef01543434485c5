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
