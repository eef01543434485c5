import { parseHostList, type HostPort } from "@osad2/service-kit";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { InvalidNameError, InvalidOptionError } from "./errors.js";
import { rpmArchFor, type RpmArch } from "./arch.js";
import { DEFAULT_OVERLAP_MS, validateOverlapMs } from "./overlap.js";

/** Where `createserver` puts the server's CURVE keys and `createclient` reads them (the Spacewalk layout). */
export const DEFAULT_SERVER_CERTIFICATES_DIR = "/etc/rhn/osad2-server/certs";
/** The server config `createserver` writes when none exists. */
export const DEFAULT_SERVER_CONFIG_PATH = "/etc/rhn/osad2-server/osad_server.cfg";
/** RPM release of a client package; bump it when re-issuing a system's keys so `rpm -U` upgrades. */
export const DEFAULT_RELEASE = "1";
/** Found on PATH (Spacewalk hosts and Debian's `rpm` package put it in /usr/bin). */
export const DEFAULT_RPMBUILD = "rpmbuild";
/** Longest client name; the same limit as a push client name in Spacewalk (`rhnPushClient.name` varchar(64)). */
export const MAX_CLIENT_NAME_LENGTH = 64;
/** `server` is the server's own key file in `public_keys/`; a client of that name would replace it. */
export const RESERVED_CLIENT_NAMES: readonly string[] = ["server"];

/** Options of {@link createServerKeys}. */
export interface CreateServerKeysOptions {
  /** Certificates root holding `private_keys/`, `public_keys/`, `revoked/`. Default {@link DEFAULT_SERVER_CERTIFICATES_DIR}. */
  certificates?: string;
  /** Server config written when no file exists there; `false` writes none. Default {@link DEFAULT_SERVER_CONFIG_PATH}. */
  config?: string | false;
  /** Replace an existing server key pair (the old files are kept as a dated backup). Default false. */
  force?: boolean;
}

/** {@link CreateServerKeysOptions} with every default applied and paths made absolute. */
export interface ResolvedServerKeysOptions {
  readonly certificates: string;
  readonly config: string | false;
  readonly force: boolean;
}

/** Options of {@link createClientPackage}. */
export interface ClientPackageOptions {
  /** The system's name: its key file is `public_keys/<name>.key`, its RPM `osad2-client-<name>`. Required. */
  name: string;
  /** The server's certificates root (see {@link CreateServerKeysOptions.certificates}). Default {@link DEFAULT_SERVER_CERTIFICATES_DIR}. */
  certificates?: string;
  /**
   * Written to the client config as `server_host`: one host or a comma-separated list
   * (`sw1,sw2:5556`, failover servers), each `host[:port]` of a ROUTER port. Set, it wins over
   * the registration reply's endpoints. Default: with {@link proxy}, the proxy's recorded host;
   * else none, so the client connects where register_osad tells it (every failover server).
   */
  serverHost?: string;
  /**
   * The client sits behind this osad2 proxy (a name in the server's `proxies/`, from
   * `createproxy`): its RPM trusts the proxy's public key instead of the server's and connects
   * to the proxy's host. Default none (direct to the server).
   */
  proxy?: string;
  /** Directory the RPM is written to; created when missing. Default the current directory. */
  out?: string;
  /** Build a small noarch RPM with only the keys and the config (for systems that install @osad2/client from npm). Default false. */
  keysOnly?: boolean;
  /** Replace an existing client of the same name (key and RPM). Default false. */
  force?: boolean;
  /**
   * With `force` over an existing key: how long (ms) the old key stays allowed (in `retiring/`)
   * if the new one never connects; it is revoked as soon as the new key first connects.
   * 0 revokes it at once. Default {@link DEFAULT_OVERLAP_MS} (7 days).
   */
  overlapMs?: number;
  /** RPM release. Default {@link DEFAULT_RELEASE}. */
  release?: string | number;
  /** Target architecture, Node's (`x64`, `arm64`) or RPM's (`x86_64`, `aarch64`) spelling. Default `process.arch`. */
  arch?: string;
  /** rpmbuild program, a path or a name looked up on PATH. Default {@link DEFAULT_RPMBUILD}. */
  rpmbuild?: string;
  /** Directory holding the bundled client program. Default the `client-bundle/` the packager's build produced. */
  clientBundleDir?: string;
  /** Where the private rpmbuild topdir is created (and removed again). Default `os.tmpdir()`. */
  tmpDir?: string;
}

/** {@link ClientPackageOptions} with every default applied. */
export interface ResolvedClientPackageOptions {
  readonly name: string;
  readonly certificates: string;
  /** `server_host` as written to the config (`a, b:5556`); undefined = not written. */
  readonly serverHost: string | undefined;
  /** The proxy the client connects through; undefined = direct. */
  readonly proxy: string | undefined;
  readonly out: string;
  readonly keysOnly: boolean;
  readonly force: boolean;
  readonly overlapMs: number;
  readonly release: string;
  /** `noarch` for keys-only packages. */
  readonly arch: RpmArch | "noarch";
  readonly rpmbuild: string;
  readonly clientBundleDir: string | undefined;
  readonly tmpDir: string | undefined;
}

/** Options of {@link createServerPackage} (`osad2-packager serverrpm`). */
export interface ServerPackageOptions {
  /** Directory the RPM is written to; created when missing. Default the current directory. */
  out?: string;
  /** RPM release. Default {@link DEFAULT_RELEASE}. */
  release?: string | number;
  /** Replace an existing RPM of the same name. Default false. */
  force?: boolean;
  /** rpmbuild program, a path or a name looked up on PATH. Default {@link DEFAULT_RPMBUILD}. */
  rpmbuild?: string;
  /** The installed @osad2/server to package (built, with its node_modules). Default the one next to the packager. */
  serverDir?: string;
  /** Where the private rpmbuild topdir is created (and removed again). Default `os.tmpdir()`. */
  tmpDir?: string;
}

/** {@link ServerPackageOptions} with every default applied. */
export interface ResolvedServerPackageOptions {
  readonly out: string;
  readonly release: string;
  readonly force: boolean;
  readonly rpmbuild: string;
  readonly serverDir: string | undefined;
  readonly tmpDir: string | undefined;
}

/** Why a client (or proxy) name is unusable, or undefined when it is fine. */
export function clientNameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > MAX_CLIENT_NAME_LENGTH)
    return `it is longer than ${MAX_CLIENT_NAME_LENGTH} characters`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return "use only letters, digits, '.', '_' and '-'";
  if (name.startsWith(".")) return "it must not start with '.'";
  if (RESERVED_CLIENT_NAMES.includes(name)) return `"${name}" is reserved for the server's own key`;
  return undefined;
}

/**
 * Throws {@link InvalidNameError} unless `name` can name a key file and RPM: a client's, or a
 * proxy's (`kind` "proxy": the same rules, its key file is `proxies/<name>.key`).
 */
export function validateClientName(name: string, kind: "client" | "proxy" = "client"): string {
  const problem = clientNameProblem(name);
  if (problem !== undefined) throw new InvalidNameError(name, problem, kind);
  return name;
}

/** One `host[:port]` as a config writes it back: an IPv6 address in `[ ]` when it has a port. */
export function formatHostPort(entry: HostPort): string {
  if (entry.port === undefined) return entry.host;
  return `${isIP(entry.host) === 6 ? `[${entry.host}]` : entry.host}:${String(entry.port)}`;
}

/**
 * A comma-separated `host[:port]` list (service-kit's host list, as the client and proxy configs
 * read it), normalised to `a, b:5556` with IPv6 brackets only where a port follows.
 * @throws {InvalidOptionError} naming `option`.
 */
export function validateHostList(option: string, text: string): readonly HostPort[] {
  const hosts = parseHostList(text);
  if (hosts === undefined) {
    throw new InvalidOptionError(
      option,
      `${JSON.stringify(text)} is not a host name or IP address, or a comma-separated list of them (each optionally :port)`,
    );
  }
  return hosts;
}

function validateServerHost(text: string): string {
  return validateHostList("serverHost", text).map(formatHostPort).join(", ");
}

export function validateRelease(release: string | number): string {
  const text = String(release);
  // RPM forbids '-' in a release; keep to the characters every rpm version accepts.
  if (!/^[A-Za-z0-9][A-Za-z0-9._+~]{0,63}$/.test(text)) {
    throw new InvalidOptionError(
      "release",
      `${JSON.stringify(text)} must be letters, digits, '.', '_', '+' or '~' (e.g. 2)`,
    );
  }
  return text;
}

/** The rpmbuild program (a path or a name looked up on PATH); default {@link DEFAULT_RPMBUILD}. */
export function validateRpmbuild(program: string | undefined): string {
  const rpmbuild = program ?? DEFAULT_RPMBUILD;
  if (rpmbuild.length === 0) throw new InvalidOptionError("rpmbuild", "the program name is empty");
  return rpmbuild;
}

export function validatePath(option: string, path: string): string {
  if (path.length === 0) throw new InvalidOptionError(option, "the path is empty");
  if (path.includes("\0")) throw new InvalidOptionError(option, "the path contains a NUL byte");
  return resolve(path);
}

/** Applies defaults to {@link CreateServerKeysOptions} and validates them. */
export function parseServerKeysOptions(
  options: CreateServerKeysOptions = {},
): ResolvedServerKeysOptions {
  return {
    certificates: validatePath(
      "certificates",
      options.certificates ?? DEFAULT_SERVER_CERTIFICATES_DIR,
    ),
    config:
      options.config === false
        ? false
        : validatePath("config", options.config ?? DEFAULT_SERVER_CONFIG_PATH),
    force: options.force ?? false,
  };
}

/** Applies defaults to {@link ClientPackageOptions} and validates them (the name first, so a bad name is the error reported). */
export function parseClientPackageOptions(
  options: ClientPackageOptions,
): ResolvedClientPackageOptions {
  const name = validateClientName(options.name);
  const keysOnly = options.keysOnly ?? false;
  let arch: RpmArch | "noarch" = "noarch";
  if (!keysOnly) {
    const wanted = options.arch ?? process.arch;
    const mapped = rpmArchFor(wanted);
    if (mapped === undefined) {
      throw new InvalidOptionError(
        "arch",
        `${JSON.stringify(wanted)} is not supported; use x64 (x86_64) or arm64 (aarch64), or --keys-only`,
      );
    }
    arch = mapped;
  }
  const rpmbuild = validateRpmbuild(options.rpmbuild);
  return {
    name,
    certificates: validatePath(
      "certificates",
      options.certificates ?? DEFAULT_SERVER_CERTIFICATES_DIR,
    ),
    serverHost:
      options.serverHost === undefined ? undefined : validateServerHost(options.serverHost),
    proxy: options.proxy === undefined ? undefined : validateClientName(options.proxy, "proxy"),
    out: validatePath("out", options.out ?? process.cwd()),
    keysOnly,
    force: options.force ?? false,
    overlapMs: validateOverlapMs(options.overlapMs ?? DEFAULT_OVERLAP_MS),
    release: validateRelease(options.release ?? DEFAULT_RELEASE),
    arch,
    rpmbuild,
    clientBundleDir:
      options.clientBundleDir === undefined
        ? undefined
        : validatePath("clientBundleDir", options.clientBundleDir),
    tmpDir: options.tmpDir === undefined ? undefined : validatePath("tmpDir", options.tmpDir),
  };
}

/** Applies defaults to {@link ServerPackageOptions} and validates them. */
export function parseServerPackageOptions(
  options: ServerPackageOptions = {},
): ResolvedServerPackageOptions {
  const rpmbuild = validateRpmbuild(options.rpmbuild);
  return {
    out: validatePath("out", options.out ?? process.cwd()),
    release: validateRelease(options.release ?? DEFAULT_RELEASE),
    force: options.force ?? false,
    rpmbuild,
    serverDir:
      options.serverDir === undefined ? undefined : validatePath("serverDir", options.serverDir),
    tmpDir: options.tmpDir === undefined ? undefined : validatePath("tmpDir", options.tmpDir),
  };
}
