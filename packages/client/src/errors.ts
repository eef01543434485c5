/**
 * The errors the client library throws of its own. Messages are one line a person can act
 * on: what went wrong, which file or key, and the fix. The CLI prints `message` and exits.
 * Config and pidfile problems are @osad2/service-kit's ConfigError and PidfileError (the
 * index re-exports them), shared with the server.
 */

/** Base class: lets callers catch everything osad2-client throws on purpose. */
export class ClientError extends Error {
  override name = "ClientError";
}

/** Why a key file could not be used; the message says how to fix each. */
export type KeyConfigReason = "missing" | "permissions" | "invalid";

/** The client secret key or the server public key file cannot be used. */
export class KeyConfigError extends ClientError {
  override name = "KeyConfigError";
  readonly path: string;
  readonly reason: KeyConfigReason;

  constructor(
    path: string,
    reason: KeyConfigReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * register_osad could not be called or its reply cannot be used (not a server fault);
 * "subprocess": the helper process that makes the call (SubprocessRegistration) failed.
 */
export const REGISTRATION_ERROR_REASONS = [
  "network",
  "timeout",
  "http",
  "bad-reply",
  "too-large",
  "systemid",
  "subprocess",
] as const;
export type RegistrationErrorReason = (typeof REGISTRATION_ERROR_REASONS)[number];

export class RegistrationError extends ClientError {
  override name = "RegistrationError";
  /** The registration URL (or the systemid path when reason is "systemid"). */
  readonly url: string;
  readonly reason: RegistrationErrorReason;

  constructor(
    url: string,
    reason: RegistrationErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.url = url;
    this.reason = reason;
  }
}

/** The server answered register_osad with an XML-RPC fault (e.g. an unknown systemid). */
export class RegistrationFault extends ClientError {
  override name = "RegistrationFault";
  readonly url: string;
  readonly faultCode: number;
  readonly faultString: string;

  constructor(url: string, faultCode: number, faultString: string, options?: { cause?: unknown }) {
    super(
      // Spacewalk's fault text spans lines ("\nError Message:\n    …\nError Class Code: 9…"): one line here.
      `registration at ${url} refused with fault ${faultCode}: ${faultString.replace(/\s*\n\s*/g, " ").trim() || "(no reason given)"}` +
        " — check that this system is registered to that server (rhnreg_ks) and its systemid is current",
      options,
    );
    this.url = url;
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

/** Why the state file could not be used. */
export type StateFileProblem = "missing" | "unreadable" | "invalid";

/** The state file `osad2-client status` reads is absent, unreadable or not JSON. */
export class StateFileError extends ClientError {
  override name = "StateFileError";
  readonly path: string;
  readonly problem: StateFileProblem;

  constructor(
    path: string,
    problem: StateFileProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.path = path;
    this.problem = problem;
  }
}
