import {
  KeyExistsError,
  certificateLayout,
  generateKeyPair,
  writeCertificate,
  type KeyPair,
} from "@osad2/keys";
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeSystemError } from "@osad2/service-kit";
import { CLIENT_TEMPLATE_FILES, loadClientTemplates } from "./client-templates.js";
import { PACKAGER_VERSION } from "./constants.js";
import { stageDocumentation } from "./documentation.js";
import {
  DuplicateProxyError,
  InvalidOptionError,
  OutputDirError,
  PackagerError,
} from "./errors.js";
import { directoryProblem, pathExists, writeStaged } from "./fs-util.js";
import {
  PROXY_PATHS,
  renderProxyConfig,
  renderProxyProxiesService,
  renderProxySystemsService,
  renderProxyUnit,
} from "./proxy-files.js";
import { openProxyStore, proxyMetadata, readProxy } from "./proxy-keys.js";
import {
  defaultServerUpstream,
  parseProxyPackageOptions,
  upstreamEntries,
  type ProxyPackageOptions,
  type ResolvedProxyPackageOptions,
} from "./proxy-options.js";
import { renderProxyReadme } from "./proxy-readme.js";
import { proxyRpmFileName, proxyRpmPackageName, renderProxySpec } from "./proxy-spec.js";
import { publishSecretRpm } from "./publish.js";
import { makeTopdir, resolveRpmbuild, runRpmbuild } from "./rpmbuild.js";
import { readServerPublicKey } from "./server-key.js";

/** What {@link createProxyPackage} made. */
export interface ProxyPackage {
  readonly name: string;
  /** The proxy's public key (Z85), now the server's `proxies/<name>.key`. */
  readonly publicKey: string;
  readonly keyPath: string;
  /** The RPM written, unless `noRpm`. */
  readonly rpmPath?: string;
  /** With `noRpm`: the file tree written (`<out>/osad2-proxy-keys-<name>`, copy its contents to `/`). */
  readonly treeDir?: string;
  /** `host:port` entries of its upstream. */
  readonly upstream: readonly string[];
  /** `server`, or `proxy PARENT`: whose public key it trusts upstream. */
  readonly upstreamIs: string;
  readonly host: string | undefined;
}

/** Whom a proxy connects to: its entries and the public key it must find there. */
interface Upstream {
  readonly entries: readonly string[];
  readonly publicKey: string;
  readonly is: string;
  readonly keyName: string;
}

/**
 * Makes an osad2 proxy's key pair and builds `osad2-proxy-keys-<name>-<version>-<release>.noarch.rpm`
 * (or, with `noRpm`, the same files as a tree) holding it, its upstream's public key (the
 * server's; with `parent`, the parent proxy's), `osad2-proxy.conf`, the unit and the firewalld
 * services; then adds its public key to the server's `proxies/`, where the server (and, through
 * the server, every parent proxy) admits it. Everything is checked before anything is written;
 * the package is taken back out if the key cannot be added.
 * @throws {PackagerError} subclasses for bad options and failures.
 */
export async function createProxyPackage(options: ProxyPackageOptions): Promise<ProxyPackage> {
  const opts = parseProxyPackageOptions(options);
  const layout = certificateLayout(opts.certificates);
  const serverPublicKey = await readServerPublicKey(layout.serverPublicPath);
  const keyPath = join(layout.proxiesDir, `${opts.name}.key`);
  if (await pathExists(keyPath)) throw new DuplicateProxyError(opts.name, keyPath);
  const upstream = await resolveUpstream(opts, serverPublicKey);
  const outProblem = await directoryProblem(opts.out);
  if (outProblem !== undefined) throw new OutputDirError(opts.out, outProblem);
  const version = PACKAGER_VERSION;
  const target = opts.noRpm
    ? join(opts.out, proxyRpmPackageName(opts.name))
    : join(opts.out, proxyRpmFileName({ name: opts.name, version, release: opts.release }));
  if (await pathExists(target)) throw new DuplicateProxyError(opts.name, target);
  const rpmbuild = opts.noRpm ? undefined : await resolveRpmbuild(opts.rpmbuild);
  const templates = await loadClientTemplates();

  const keyPair = generateKeyPair();
  const created = new Date();
  const result: ProxyPackage = {
    name: opts.name,
    publicKey: keyPair.publicKey,
    keyPath,
    upstream: upstream.entries,
    upstreamIs: upstream.is,
    host: opts.host,
    ...(opts.noRpm ? { treeDir: target } : { rpmPath: target }),
  };

  if (rpmbuild === undefined) {
    await mkdir(opts.out, { recursive: true });
    // Staged beside its final place (one file system) and renamed in one step.
    const staging = await mkdtemp(join(opts.out, `.${proxyRpmPackageName(opts.name)}-`));
    try {
      await stageProxyFiles(staging, opts, keyPair, upstream, created);
      if (await pathExists(target)) throw new DuplicateProxyError(opts.name, target);
      await rename(staging, target);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    await addProxyKey(opts, keyPair.publicKey, () => rm(target, { recursive: true, force: true }));
    return result;
  }

  const topdir = await makeTopdir(opts.tmpDir);
  try {
    const root = join(topdir, "SOURCES", "root");
    await stageProxyFiles(root, opts, keyPair, upstream, created);
    const docs = join(topdir, "doc");
    await mkdir(docs);
    await copyFile(
      join(templates.dir, CLIENT_TEMPLATE_FILES.license),
      join(docs, CLIENT_TEMPLATE_FILES.license),
    );
    await writeFile(
      join(docs, "README.md"),
      renderProxyReadme({ name: opts.name, upstream: upstream.entries, upstreamIs: upstream.is }),
    );
    const rpmName = proxyRpmPackageName(opts.name);
    const documentationFiles = await stageDocumentation(
      docs,
      {
        license: "GPL-2.0-only",
        projectLicense: CLIENT_TEMPLATE_FILES.license,
        bundled: [],
        manPages: [],
        completions: [],
        docs: ["README.md"],
      },
      root,
      rpmName,
      "client",
    );
    const specPath = join(topdir, "SPECS", `${rpmName}.spec`);
    await writeFile(
      specPath,
      renderProxySpec({
        name: opts.name,
        version,
        release: opts.release,
        upstream: upstream.entries,
        upstreamIs: upstream.is,
        created,
        documentationFiles,
      }),
      { mode: 0o644 },
    );
    await runRpmbuild(rpmbuild, specPath, topdir);
    const built = join(
      topdir,
      "RPMS",
      "noarch",
      proxyRpmFileName({ name: opts.name, version, release: opts.release }),
    );
    if (!(await pathExists(built)))
      throw new PackagerError(`rpmbuild reported success but did not write ${built}`);
    const madeDir = await publishSecretRpm(built, target, {
      out: opts.out,
      force: false,
      taken: (cause) => new DuplicateProxyError(opts.name, target, cause),
    });
    await addProxyKey(opts, keyPair.publicKey, async () => {
      await rm(target, { force: true });
      if (madeDir !== undefined) await rm(madeDir, { recursive: true, force: true });
    });
  } finally {
    await rm(topdir, { recursive: true, force: true });
  }
  return result;
}

/**
 * The upstream: with a parent, the parent's public key and its recorded host (port 5558) unless
 * `upstream` says where; without, the server's key and `upstream` or this host.
 */
async function resolveUpstream(
  opts: ResolvedProxyPackageOptions,
  serverPublicKey: string,
): Promise<Upstream> {
  if (opts.parent === undefined) {
    return {
      entries: opts.upstream ?? defaultServerUpstream(),
      publicKey: serverPublicKey,
      is: "server",
      keyName: "server",
    };
  }
  const parent = await readProxy(opts.certificates, opts.parent);
  let entries = opts.upstream;
  if (entries === undefined) {
    if (parent.host === undefined)
      throw new InvalidOptionError(
        "upstream",
        `parent proxy ${parent.name} has no recorded host (createproxy --host): give its host`,
      );
    entries = upstreamEntries("upstream", parent.host);
  }
  return { entries, publicKey: parent.publicKey, is: `proxy ${parent.name}`, keyName: parent.name };
}

/** Writes the proxy host's files below `root`, each with its mode whatever the umask. */
async function stageProxyFiles(
  root: string,
  opts: ResolvedProxyPackageOptions,
  keyPair: KeyPair,
  upstream: Upstream,
  created: Date,
): Promise<void> {
  const p = PROXY_PATHS;
  for (const [dir, mode] of [
    [p.configDir, 0o755],
    [p.certsDir, 0o755],
    [p.privateKeysDir, 0o700],
    [p.publicKeysDir, 0o755],
  ] as const) {
    await mkdir(join(root, dir), { recursive: true });
    await chmod(join(root, dir), mode);
  }
  const metadata = proxyMetadata(opts.name, opts.host, opts.parent);
  await writeCertificate(join(root, p.secretKey), { ...keyPair, metadata });
  await writeCertificate(join(root, p.publicKey), { publicKey: keyPair.publicKey, metadata });
  await writeCertificate(join(root, p.upstreamKey), {
    publicKey: upstream.publicKey,
    metadata: { name: upstream.keyName, ...(opts.parent === undefined ? {} : { kind: "proxy" }) },
  });
  await writeStaged(
    root,
    p.config,
    renderProxyConfig({
      name: opts.name,
      upstream: upstream.entries,
      upstreamIs: upstream.is,
      created,
    }),
    0o644,
  );
  await writeStaged(root, p.unit, renderProxyUnit(), 0o644);
  await writeStaged(root, p.firewalldSystems, renderProxySystemsService(), 0o644);
  await writeStaged(root, p.firewalldProxies, renderProxyProxiesService(), 0o644);
}

/**
 * Adds the key to the server's `proxies/`; a running server admits it within about a second.
 * `takeBack` removes the package when that fails: without its key it is useless.
 */
async function addProxyKey(
  opts: ResolvedProxyPackageOptions,
  publicKey: string,
  takeBack: () => Promise<void>,
): Promise<void> {
  try {
    const store = await openProxyStore(opts.certificates);
    try {
      await store.add(opts.name, publicKey, {
        metadata: proxyMetadata(opts.name, opts.host, opts.parent),
      });
    } finally {
      await store.close();
    }
  } catch (error) {
    await takeBack();
    if (error instanceof KeyExistsError)
      throw new DuplicateProxyError(opts.name, error.path, { cause: error });
    throw new PackagerError(
      `cannot add the key of proxy ${opts.name} to the server's proxies/, so its package was not kept: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
}
