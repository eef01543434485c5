/**
 * Every error the client library throws. Messages are one line a person can act on:
 * what went wrong, which file or key, and the fix. The CLI prints `message` and exits.
 */

/** Base class: lets callers catch everything osad2-client throws on purpose. */
export class ClientError extends Error {
  override name = "ClientError";
}

/** The client config file, a key in it, a CLI flag or up2date's file is missing or wrong. */
export class ConfigError extends ClientError {
  override name = "ConfigError";
  /** The file at fault, when there is one. */
  readonly path: string | undefined;
  /** The config key at fault, when there is one. */
  readonly key: string | undefined;

  constructor(
    message: string,
    details: { path?: string; key?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.path = details.path;
    this.key = details.key;
  }
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

/** register_osad could not be called or its reply cannot be used (not a server fault). */
export type RegistrationErrorReason = "network" | "timeout" | "http" | "bad-reply" | "systemid";

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
      `registration at ${url} refused with fault ${faultCode}: ${faultString || "(no reason given)"}` +
        " — check that this system is registered to that server (rhnreg_ks) and its systemid is current",
      options,
    );
    this.url = url;
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

/** Another osad2-client already holds the pidfile. */
export class PidfileError extends ClientError {
  override name = "PidfileError";
  readonly path: string;
  readonly pid: number | undefined;

  constructor(path: string, message: string, pid?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
    this.pid = pid;
  }
}

/** errno code of a Node system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

/** A short human description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
