/**
 * Every error @osad2/service-kit throws on purpose. Each sets `name`, accepts `{ cause }` and
 * carries the fields a caller branches on; messages are one line a person can act on.
 */

/** Where in a config a problem is: the file, its line and the key, as far as known. */
export interface ConfigLocation {
  /** The config file, when the problem is in one. */
  readonly path?: string;
  /** 1-based line in {@link path}. */
  readonly line?: number;
  /** The INI key (snake_case), when the problem is about one. */
  readonly key?: string;
}

/**
 * A config file, a key in it, a command-line flag or an environment value is missing or wrong.
 * The message already names the file, line and key; the fields repeat them for code.
 */
export class ConfigError extends Error {
  override readonly name: string = "ConfigError";
  readonly path: string | undefined;
  readonly line: number | undefined;
  readonly key: string | undefined;

  constructor(message: string, location: ConfigLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.path = location.path;
    this.line = location.line;
    this.key = location.key;
  }
}

/** `path line 3: ` (or `path: ` without a line), the prefix of every file-located message. */
export function locationPrefix(path: string, line?: number): string {
  return line === undefined ? `${path}: ` : `${path} line ${line}: `;
}

/** Why a pidfile could not be taken. */
export type PidfileProblem = "running" | "symlink" | "io" | "contended";

/** The pidfile is held by a live process of the same program, is a symlink, or cannot be written. */
export class PidfileError extends Error {
  override readonly name = "PidfileError";
  readonly path: string;
  readonly problem: PidfileProblem;
  /** The pid of the process holding the file, when `problem` is "running". */
  readonly pid: number | undefined;

  constructor(
    path: string,
    problem: PidfileProblem,
    message: string,
    pid?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.path = path;
    this.problem = problem;
    this.pid = pid;
  }
}

/** A directory whose files must be trusted is writable by its group or by anyone. */
export class UnsafeDirectoryError extends Error {
  override readonly name = "UnsafeDirectoryError";
  readonly path: string;
  /** The directory's permission bits, e.g. 0o777. */
  readonly mode: number;

  constructor(path: string, mode: number, what: string, options?: { cause?: unknown }) {
    super(
      `directory ${path} (${what}) has mode 0${mode.toString(8).padStart(3, "0")}: its group or others may add or replace files in it; run \`chmod go-w ${path}\``,
      options,
    );
    this.path = path;
    this.mode = mode;
  }
}

/**
 * A listening socket could not bind its endpoint (port in use, address not on this host, no
 * permission). Each service subclasses it under its own name.
 */
export class BindError extends Error {
  override readonly name: string = "BindError";
  readonly endpoint: string;

  constructor(endpoint: string, detail: string, options?: { cause?: unknown }) {
    super(`cannot bind ${endpoint}: ${detail}`, options);
    this.endpoint = endpoint;
  }
}
