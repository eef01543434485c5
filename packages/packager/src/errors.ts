/** Base class of every error @osad2/packager throws on purpose; its message is one line a person can act on. */
export class PackagerError extends Error {
  override readonly name: string = "PackagerError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An option has a value the packager cannot use; `option` is the library key (e.g. `release`). */
export class InvalidOptionError extends PackagerError {
  override readonly name = "InvalidOptionError";
  readonly option: string;
  /** The message without the option name (the CLI names the flag instead). */
  readonly problem: string;

  constructor(option: string, problem: string, options?: { cause?: unknown }) {
    super(`invalid ${option}: ${problem}`, options);
    this.option = option;
    this.problem = problem;
  }
}

/** A client or proxy name is not a valid key file name (`[A-Za-z0-9._-]`, 1–64 characters, not `server`). */
export class InvalidNameError extends PackagerError {
  override readonly name = "InvalidNameError";
  readonly clientName: string;

  constructor(clientName: string, problem: string, kind: "client" | "proxy" = "client") {
    super(`invalid ${kind} name ${JSON.stringify(clientName)}: ${problem}`);
    this.clientName = clientName;
  }
}

/** A client of that name already has a key in the allow-list (or an RPM in the output directory). */
export class DuplicateClientError extends PackagerError {
  override readonly name = "DuplicateClientError";
  readonly clientName: string;
  readonly path: string;

  constructor(clientName: string, path: string, options?: { cause?: unknown }) {
    super(
      `client ${JSON.stringify(clientName)} already exists (${path}); pick another name or pass --force to replace it`,
      options,
    );
    this.clientName = clientName;
    this.path = path;
  }
}

/** The server's public key (`public_keys/server.key`) is missing or unreadable, so no client can trust it. */
export class MissingServerKeyError extends PackagerError {
  override readonly name = "MissingServerKeyError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(
      `server public key ${path} ${detail}; run "osad2-packager createserver --certificates <dir>" first`,
      options,
    );
    this.path = path;
  }
}

/** The server key files exist but do not form a usable pair; `createserver --force` replaces them. */
export class ServerKeyExistsError extends PackagerError {
  override readonly name = "ServerKeyExistsError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(
      `${path} ${detail}; pass --force to replace the server key pair (the old files are kept as a backup)`,
      options,
    );
    this.path = path;
  }
}

/** `rpmbuild` is not installed (or not at the configured path). */
export class RpmbuildMissingError extends PackagerError {
  override readonly name = "RpmbuildMissingError";
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super(
      `rpmbuild not found (${path}); install it with "apt-get install rpm" (Debian/Ubuntu) or "dnf install rpm-build" (Fedora/RHEL/SUSE: zypper install rpm-build)`,
      options,
    );
    this.path = path;
  }
}

/** rpmbuild ran and failed; `stderr` holds its last output. */
export class RpmBuildError extends PackagerError {
  override readonly name = "RpmBuildError";
  readonly stderr: string;
  readonly exitCode: number | null;

  constructor(
    specPath: string,
    exitCode: number | null,
    stderr: string,
    options?: { cause?: unknown },
  ) {
    const lastLine = stderr.trim().split("\n").at(-1) ?? "";
    super(`rpmbuild failed for ${specPath} (exit code ${String(exitCode)}): ${lastLine}`, options);
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

/** The output directory for RPMs cannot be used (not a directory, not writable). */
export class OutputDirError extends PackagerError {
  override readonly name = "OutputDirError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`output directory ${path} ${detail}`, options);
    this.path = path;
  }
}

/** A config file could not be written. */
export class ConfigFileError extends PackagerError {
  override readonly name = "ConfigFileError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`config file ${path} ${detail}`, options);
    this.path = path;
  }
}

/** The bundled client program is missing from the packager's dist (the package was not built). */
export class ClientBundleError extends PackagerError {
  override readonly name = "ClientBundleError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(
      `client bundle ${path} ${detail}; rebuild with "npm run build -w @osad2/packager"`,
      options,
    );
    this.path = path;
  }
}

/** The @osad2/server to package is missing, not built, or cannot run on this machine. */
export class ServerBundleError extends PackagerError {
  override readonly name = "ServerBundleError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`@osad2/server ${path} ${detail}`, options);
    this.path = path;
  }
}

/** A proxy of that name already has a key in the server's `proxies/` (or an RPM in the output directory). */
export class DuplicateProxyError extends PackagerError {
  override readonly name = "DuplicateProxyError";
  readonly proxyName: string;
  readonly path: string;

  constructor(proxyName: string, path: string, options?: { cause?: unknown }) {
    super(
      `proxy ${JSON.stringify(proxyName)} already exists (${path}); pick another name, or revoke it first with "osad2-packager keys revoke ${proxyName} --proxy"`,
      options,
    );
    this.proxyName = proxyName;
    this.path = path;
  }
}

/** A proxy named by `--parent` or `--proxy` is not an allowed proxy of the server (`proxies/NAME.key`). */
export class UnknownProxyError extends PackagerError {
  override readonly name = "UnknownProxyError";
  readonly proxyName: string;
  readonly path: string;

  constructor(proxyName: string, path: string, detail: string, options?: { cause?: unknown }) {
    super(
      `proxy ${JSON.stringify(proxyName)} ${detail} (${path}); create it first with "osad2-packager createproxy ${proxyName} --host HOST"`,
      options,
    );
    this.proxyName = proxyName;
    this.path = path;
  }
}

/** `keys revoke NAME` found no client and no proxy of that name. */
export class NoSuchKeyError extends PackagerError {
  override readonly name = "NoSuchKeyError";
  readonly keyName: string;

  constructor(keyName: string, where: string, options?: { cause?: unknown }) {
    super(
      `no key named ${JSON.stringify(keyName)}: ${where}; "osad2-packager keys list" shows every key`,
      options,
    );
    this.keyName = keyName;
  }
}

/** `keys revoke NAME` found both a client and a proxy of that name: which one is meant must be said. */
export class AmbiguousKeyNameError extends PackagerError {
  override readonly name = "AmbiguousKeyNameError";
  readonly keyName: string;

  constructor(keyName: string) {
    super(
      `both a client and a proxy are named ${JSON.stringify(keyName)}; pass --client or --proxy to say which to revoke`,
    );
    this.keyName = keyName;
  }
}
