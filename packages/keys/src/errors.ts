/**
 * Typed errors of @osad2/keys. Every class extends {@link KeyError}, sets `name`,
 * accepts `{ cause }` and carries the fields a caller branches on.
 */

/** Base class: anything this library refuses or cannot do. */
export class KeyError extends Error {
  override name = "KeyError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Why a Z85 string or byte array was refused. */
export type Z85ErrorReason = "length" | "character" | "overflow";

/** Text or bytes that are not valid Z85 (ZeroMQ RFC 32), or not a 32-byte CURVE key. */
export class Z85Error extends KeyError {
  override name = "Z85Error";
  readonly reason: Z85ErrorReason;

  constructor(reason: Z85ErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** A certificate file that cannot be read, written or parsed. */
export class KeyFileError extends KeyError {
  override name = "KeyFileError";
  /** The file concerned. */
  readonly path: string;
  /** 1-based line of a parse error, when there is one. */
  readonly line: number | undefined;
  /** The Node.js error code behind an I/O failure (`"ENOENT"`, `"EACCES"`, …), if any. */
  readonly code: string | undefined;

  constructor(
    path: string,
    detail: string,
    options?: { cause?: unknown; line?: number; code?: string },
  ) {
    super(`${path}${options?.line !== undefined ? `:${options.line}` : ""}: ${detail}`, options);
    this.path = path;
    this.line = options?.line;
    this.code = options?.code;
  }
}

/** Certificate text that is not ZPL as pyzmq/czmq write it; {@link readCertificate} wraps it in a KeyFileError. */
export class CertificateSyntaxError extends KeyError {
  override name = "CertificateSyntaxError";
  /** 1-based line, when the problem is on one. */
  readonly line: number | undefined;
  /** The message without the line prefix. */
  readonly detail: string;

  constructor(detail: string, line?: number, options?: { cause?: unknown }) {
    super(line !== undefined ? `line ${line}: ${detail}` : detail, options);
    this.line = line;
    this.detail = detail;
  }
}

/** A secret certificate that group or others may access. */
export class KeyPermissionError extends KeyError {
  override name = "KeyPermissionError";
  readonly path: string;
  /** The file's permission bits, e.g. `0o644`. */
  readonly mode: number;

  constructor(path: string, mode: number, options?: { cause?: unknown }) {
    super(
      `secret key file ${path} has mode ${formatMode(mode)} and is accessible by group or others; ` +
        `run \`chmod 600 ${path}\` (and make sure its owner is the user running osad2)`,
      options,
    );
    this.path = path;
    this.mode = mode;
  }
}

/**
 * A key directory its group or others may write: whoever can write `public_keys/` can allow
 * their own key, whoever can write `private_keys/` or `certs/` can swap the secret.
 */
export class KeyDirectoryPermissionError extends KeyError {
  override name = "KeyDirectoryPermissionError";
  readonly path: string;
  /** The directory's permission bits, e.g. `0o777`. */
  readonly mode: number;

  constructor(path: string, mode: number, what: string, options?: { cause?: unknown }) {
    super(
      `key directory ${path} (${what}) has mode ${formatMode(mode)}: its group or others may add or replace keys in it; ` +
        `run \`chmod go-w ${path}\``,
      options,
    );
    this.path = path;
    this.mode = mode;
  }
}

/** A key of that name (or the server key pair) already exists and `force` was not given. */
export class KeyExistsError extends KeyError {
  override name = "KeyExistsError";
  readonly keyName: string;
  readonly path: string;

  constructor(keyName: string, path: string, hint: string, options?: { cause?: unknown }) {
    super(`key "${keyName}" already exists at ${path}; ${hint}`, options);
    this.keyName = keyName;
    this.path = path;
  }
}

/** No key of that name in the key store. */
export class KeyNotFoundError extends KeyError {
  override name = "KeyNotFoundError";
  readonly keyName: string;

  constructor(keyName: string, directory: string, options?: { cause?: unknown }) {
    super(`no key named "${keyName}" in ${directory}`, options);
    this.keyName = keyName;
  }
}

/** A public key that was revoked may not come back; the system needs a new key pair. */
export class KeyRevokedError extends KeyError {
  override name = "KeyRevokedError";
  readonly publicKey: string;
  /** The file in `revoked/` that holds it. */
  readonly path: string;

  constructor(publicKey: string, path: string, options?: { cause?: unknown }) {
    super(
      `public key ${publicKey} was revoked (${path}); generate a new key pair for this system instead`,
      options,
    );
    this.publicKey = publicKey;
    this.path = path;
  }
}

/** A key name that is not `[A-Za-z0-9._-]{1,64}` or starts with a dot. */
export class InvalidKeyNameError extends KeyError {
  override name = "InvalidKeyNameError";
  readonly keyName: string;

  constructor(keyName: string, options?: { cause?: unknown }) {
    super(
      `invalid key name ${JSON.stringify(keyName)}: use 1-64 characters of A-Z a-z 0-9 . _ - ` +
        `not starting with "."`,
      options,
    );
    this.keyName = keyName;
  }
}

/** `0o644` → `"0644"`, the way chmod and ls people read it. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}
