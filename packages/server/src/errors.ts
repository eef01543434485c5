/**
 * Errors thrown by the osad2 server library (the database layer has its own in
 * db/errors.ts and registration/errors.ts; index.ts re-exports all of them).
 * Every class sets `name`, accepts `{ cause }` and carries the fields a caller branches on.
 */

/** A configuration value (INI key, CLI flag or library option) is missing or invalid. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The INI key the problem is about, e.g. "publisher_port"; undefined for file-level problems. */
  readonly key: string | undefined;

  constructor(key: string | undefined, message: string, options?: { cause?: unknown }) {
    super(key === undefined ? message : `config key ${key}: ${message}`, options);
    this.key = key;
  }
}

/** The configuration file could not be read or parsed. */
export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`config file ${path}: ${detail}`, options);
    this.path = path;
  }
}

/** ZeroMQ could not bind a socket (port in use, address not on this host, no permission). */
export class SocketBindError extends Error {
  override readonly name = "SocketBindError";
  readonly endpoint: string;

  constructor(endpoint: string, detail: string, options?: { cause?: unknown }) {
    super(`cannot bind ${endpoint}: ${detail}`, options);
    this.endpoint = endpoint;
  }
}

/** The installed libzmq was built without CURVE (libsodium / tweetnacl); osad2 refuses to run unencrypted. */
export class CurveUnavailableError extends Error {
  override readonly name = "CurveUnavailableError";

  constructor() {
    super(
      "this zeromq build has no CURVE support; reinstall the zeromq package with its prebuilt binary (npm rebuild zeromq)",
    );
  }
}

/** notify() was asked about a push client that does not exist. */
export class UnknownClientError extends Error {
  override readonly name = "UnknownClientError";
  readonly clientName: string;

  constructor(clientName: string) {
    super(
      `no push client named ${JSON.stringify(clientName)} in rhnPushClient (has the system run register_osad?)`,
    );
    this.clientName = clientName;
  }
}

/** A lifecycle call came at the wrong time (start twice, notify after stop, …). */
export class ServerStateError extends Error {
  override readonly name = "ServerStateError";
  readonly state: string;

  constructor(state: string, action: string) {
    super(`cannot ${action}: the server is ${state}`);
    this.state = state;
  }
}

/** Another osad2-server already runs with this pidfile. */
export class PidfileError extends Error {
  override readonly name = "PidfileError";
  readonly path: string;
  readonly pid: number | undefined;

  constructor(path: string, detail: string, pid?: number, options?: { cause?: unknown }) {
    super(`pidfile ${path}: ${detail}`, options);
    this.path = path;
    this.pid = pid;
  }
}
