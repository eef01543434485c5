import { hostname } from "node:os";
import { DEFAULT_PROXY_PORT } from "./constants.js";
import { InvalidOptionError } from "./errors.js";
import {
  DEFAULT_RELEASE,
  DEFAULT_SERVER_CERTIFICATES_DIR,
  formatHostPort,
  validateClientName,
  validateHostList,
  validatePath,
  validateRelease,
  validateRpmbuild,
} from "./options.js";

/** Options of {@link createProxyPackage} (`osad2-packager createproxy`). */
export interface ProxyPackageOptions {
  /** The proxy's name: its key is the server's `proxies/<name>.key`, its RPM `osad2-proxy-keys-<name>`. Required. */
  name: string;
  /** The server's certificates root. Default {@link DEFAULT_SERVER_CERTIFICATES_DIR}. */
  certificates?: string;
  /** The proxy this one sits behind (a name in `proxies/`); default none: it connects to the server(s). */
  parent?: string;
  /**
   * The host systems (and child proxies) reach this proxy at; recorded in `proxies/<name>.key`
   * for `createclient --proxy` and `createproxy --parent`. Default none (they must say it).
   */
  host?: string;
  /**
   * `host[:port],…` this proxy connects to (port default 5558): the failover servers, or the
   * parent. Default: the parent's recorded host, else this host's name (the server).
   */
  upstream?: string;
  /** Directory the RPM (or, with `noRpm`, the file tree) is written to. Default the current directory. */
  out?: string;
  /** Write the files as a tree `<out>/osad2-proxy-keys-<name>/etc/osad2/…` instead of an RPM. Default false. */
  noRpm?: boolean;
  /** RPM release. Default {@link DEFAULT_RELEASE}. */
  release?: string | number;
  /** rpmbuild program. Default `rpmbuild` (see validateRpmbuild). */
  rpmbuild?: string;
  /** Where the private build directory is created (and removed again). Default `os.tmpdir()`. */
  tmpDir?: string;
}

/** {@link ProxyPackageOptions} validated, defaults applied where they need no key store. */
export interface ResolvedProxyPackageOptions {
  readonly name: string;
  readonly certificates: string;
  readonly parent: string | undefined;
  readonly host: string | undefined;
  /** `host:port` entries with the port filled in; undefined = derive it (parent's host or this host). */
  readonly upstream: readonly string[] | undefined;
  readonly out: string;
  readonly noRpm: boolean;
  readonly release: string;
  readonly rpmbuild: string;
  readonly tmpDir: string | undefined;
}

/** `host[:port]` list → `host:port` entries, the port defaulting to the proxy port 5558. */
export function upstreamEntries(option: string, text: string): string[] {
  return validateHostList(option, text).map((entry) =>
    formatHostPort({ host: entry.host, port: entry.port ?? DEFAULT_PROXY_PORT }),
  );
}

/** The upstream of a top-level proxy when none is given: this host (createproxy runs on the server). */
export function defaultServerUpstream(): string[] {
  return upstreamEntries("upstream", hostname());
}

/** Applies defaults to {@link ProxyPackageOptions} and validates them (the name first). */
export function parseProxyPackageOptions(
  options: ProxyPackageOptions,
): ResolvedProxyPackageOptions {
  const name = validateClientName(options.name, "proxy");
  const parent =
    options.parent === undefined ? undefined : validateClientName(options.parent, "proxy");
  if (parent === name) throw new InvalidOptionError("parent", "a proxy cannot be its own parent");
  let host: string | undefined;
  if (options.host !== undefined) {
    const [entry, ...more] = validateHostList("host", options.host);
    if (entry === undefined || more.length > 0 || entry.port !== undefined)
      throw new InvalidOptionError(
        "host",
        `${JSON.stringify(options.host)} must be one host name or IP address, without a port (systems use 5556, child proxies 5558)`,
      );
    host = entry.host;
  }
  const rpmbuild = validateRpmbuild(options.rpmbuild);
  return {
    name,
    certificates: validatePath(
      "certificates",
      options.certificates ?? DEFAULT_SERVER_CERTIFICATES_DIR,
    ),
    parent,
    host,
    upstream:
      options.upstream === undefined ? undefined : upstreamEntries("upstream", options.upstream),
    out: validatePath("out", options.out ?? process.cwd()),
    noRpm: options.noRpm ?? false,
    release: validateRelease(options.release ?? DEFAULT_RELEASE),
    rpmbuild,
    tmpDir: options.tmpDir === undefined ? undefined : validatePath("tmpDir", options.tmpDir),
  };
}
