import {
  KeyExistsError,
  KeyStore,
  certificateLayout,
  generateKeyPair,
  writeCertificate,
  type KeyPair,
  type RetiringKey,
  type StoredKey,
} from "@osad2/keys";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nodeArchFor } from "./arch.js";
import { loadClientBundle, stageClientBundle } from "./bundle.js";
import { CLIENT_TEMPLATE_FILES, loadClientTemplates } from "./client-templates.js";
import { CLIENT_PATHS, renderClientConfig, renderWrapper } from "./client-files.js";
import { stageDocumentation } from "./documentation.js";
import { renderDropIn, renderPreset } from "./systemd.js";
import { PACKAGER_VERSION } from "./constants.js";
import {
  ClientBundleError,
  DuplicateClientError,
  InvalidOptionError,
  OutputDirError,
  PackagerError,
} from "./errors.js";
import { readProxy, type ProxyRecord } from "./proxy-keys.js";
import { publishSecretRpm } from "./publish.js";
import { readServerPublicKey } from "./server-key.js";
import { directoryProblem, pathExists, writeStaged } from "./fs-util.js";
import {
  parseClientPackageOptions,
  type ClientPackageOptions,
  type ResolvedClientPackageOptions,
} from "./options.js";
import { makeTopdir, resolveRpmbuild, runRpmbuild } from "./rpmbuild.js";
import { renderSpec, rpmbuildTarget, rpmFileName, rpmPackageName, type SpecInput } from "./spec.js";

/** What {@link createClientPackage} made. */
export interface ClientPackage {
  /** The client (system) name. */
  readonly name: string;
  /** The client's public key (Z85), now in the server's `public_keys/<name>.key`. */
  readonly publicKey: string;
  /** The RPM written to the output directory. */
  readonly rpmPath: string;
  /** `x86_64`, `aarch64`, or `noarch` for keys-only packages. */
  readonly arch: string;
  readonly keysOnly: boolean;
  /** Path of the public key file added to the allow-list. */
  readonly keyPath: string;
  /** Re-issued (`force`) over an old key with an overlap: the old key, still allowed, in `retiring/`. */
  readonly retiring?: RetiringKey;
  /** Re-issued with overlap 0: the old keys of the name (current and retiring), now in `revoked/`. */
  readonly revoked?: readonly StoredKey[];
}

/**
 * Generates a client key pair, builds `osad2-client-<name>-<version>-<release>.<arch>.rpm` holding it (and,
 * unless `keysOnly`, the client program and its service) and then adds the public key to the server's
 * allow-list. Everything is checked before anything is written; the RPM is built in a private temporary
 * directory, moved into place in one step, and removed again if the key cannot be added.
 * @throws {PackagerError} subclasses for bad options and failures, {@link KeyError} from @osad2/keys for unreadable key files.
 */
export async function createClientPackage(options: ClientPackageOptions): Promise<ClientPackage> {
  const opts = parseClientPackageOptions(options);
  const layout = certificateLayout(opts.certificates);
  const keyPath = join(layout.publicKeysDir, `${opts.name}.key`);

  // Behind a proxy the client knows the proxy as its server: the proxy's key and host.
  const proxy =
    opts.proxy === undefined ? undefined : await readProxy(opts.certificates, opts.proxy);
  const serverPublicKey = proxy?.publicKey ?? (await readServerPublicKey(layout.serverPublicPath));
  const serverHost = opts.serverHost ?? proxyHost(proxy);
  if (!opts.force && (await pathExists(keyPath)))
    throw new DuplicateClientError(opts.name, keyPath);
  const rpmbuild = await resolveRpmbuild(opts.rpmbuild);
  const bundle = opts.keysOnly ? undefined : await loadClientBundle(opts.clientBundleDir);
  const templates = await loadClientTemplates();
  const outProblem = await directoryProblem(opts.out);
  if (outProblem !== undefined) throw new OutputDirError(opts.out, outProblem);

  const version = PACKAGER_VERSION;
  const rpmName = rpmFileName({ name: opts.name, version, release: opts.release, arch: opts.arch });
  const rpmPath = join(opts.out, rpmName);
  if (!opts.force && (await pathExists(rpmPath)))
    throw new DuplicateClientError(opts.name, rpmPath);

  const keyPair = generateKeyPair();
  const created = new Date();

  let replaced: { retiring?: RetiringKey; revoked?: readonly StoredKey[] } = {};
  const topdir = await makeTopdir(opts.tmpDir);
  try {
    const root = join(topdir, "SOURCES", "root");
    await stageKeysAndConfig(root, opts, keyPair, serverPublicKey, {
      template: templates.config,
      created,
      serverHost,
    });
    // Keys-only packages too: they exist for a system that runs the client installed from npm.
    await writeStaged(root, CLIENT_PATHS.clientCaps, templates.clientCaps, 0o644);
    let specBundle: SpecInput["bundle"];
    let documentationFiles: string;
    if (bundle !== undefined && opts.arch !== "noarch") {
      const nodeArch = nodeArchFor(opts.arch);
      await stageClientBundle(bundle, nodeArch, join(root, CLIENT_PATHS.libDir));
      await writeStaged(root, CLIENT_PATHS.bin, renderWrapper(), 0o755);
      await writeStaged(root, CLIENT_PATHS.unit, templates.unit, 0o644);
      await writeStaged(
        root,
        CLIENT_PATHS.dropIn,
        renderDropIn(`${CLIENT_PATHS.bin} run --config ${CLIENT_PATHS.config}`),
        0o644,
      );
      await writeStaged(
        root,
        CLIENT_PATHS.preset,
        renderPreset(
          CLIENT_PATHS.unitName,
          "osad2-client exists to run: its RPM enables it, also in kickstart and image builds.",
        ),
        0o644,
      );
      documentationFiles = await stageDocumentation(
        bundle.dir,
        bundle.info,
        root,
        rpmPackageName(opts.name),
        "client",
      );
      const needs = bundle.info.needs[nodeArch];
      if (needs === undefined)
        throw new ClientBundleError(bundle.dir, `says nothing of what the ${nodeArch} addon needs`);
      specBundle = {
        clientVersion: bundle.info.clientVersion,
        license: bundle.info.license,
        bundled: bundle.info.bundled,
        needs,
      };
    } else {
      // A keys-only package carries no code of anyone else: only osad2's LICENSE, and the client README.
      documentationFiles = await stageDocumentation(
        templates.dir,
        {
          license: "GPL-2.0-only",
          projectLicense: CLIENT_TEMPLATE_FILES.license,
          bundled: [],
          manPages: [],
          completions: [],
          docs: [CLIENT_TEMPLATE_FILES.readme],
        },
        root,
        rpmPackageName(opts.name),
        "client",
      );
    }
    const spec: SpecInput = {
      name: opts.name,
      version,
      release: opts.release,
      arch: opts.arch,
      keysOnly: opts.keysOnly,
      serverHost,
      proxy: opts.proxy,
      created,
      documentationFiles,
      ...(specBundle === undefined ? {} : { bundle: specBundle }),
    };
    const specPath = join(topdir, "SPECS", `${rpmPackageName(opts.name)}.spec`);
    await writeFile(specPath, renderSpec(spec), { mode: 0o644 });
    await runRpmbuild(rpmbuild, specPath, topdir, rpmbuildTarget(opts.arch));
    const built = join(topdir, "RPMS", opts.arch, rpmName);
    if (!(await pathExists(built)))
      throw new PackagerError(`rpmbuild reported success but did not write ${built}`);

    const madeDir = await publishSecretRpm(built, rpmPath, {
      out: opts.out,
      force: opts.force,
      taken: (options) => new DuplicateClientError(opts.name, rpmPath, options),
    });
    try {
      replaced = await addClientKey(opts, keyPair.publicKey);
    } catch (error) {
      // The RPM is useless without its key in the allow-list: take it back out.
      await rm(rpmPath, { force: true });
      if (madeDir !== undefined) await rm(madeDir, { recursive: true, force: true });
      throw error;
    }
  } finally {
    await rm(topdir, { recursive: true, force: true });
  }
  return {
    name: opts.name,
    publicKey: keyPair.publicKey,
    rpmPath,
    arch: opts.arch,
    keysOnly: opts.keysOnly,
    keyPath,
    ...replaced,
  };
}

async function stageKeysAndConfig(
  root: string,
  opts: ResolvedClientPackageOptions,
  keyPair: KeyPair,
  serverPublicKey: string,
  config: { readonly template: string; readonly created: Date; readonly serverHost?: string },
): Promise<void> {
  await mkdir(join(root, CLIENT_PATHS.certsDir), { recursive: true, mode: 0o700 });
  const metadata = { name: opts.name, "created-by": "osad2-packager" };
  await writeCertificate(join(root, CLIENT_PATHS.secretKey), { ...keyPair, metadata });
  await writeCertificate(join(root, CLIENT_PATHS.serverKey), {
    publicKey: serverPublicKey,
    metadata: opts.proxy === undefined ? { name: "server" } : { name: opts.proxy, kind: "proxy" },
  });
  await writeStaged(
    root,
    CLIENT_PATHS.config,
    renderClientConfig(config.template, {
      name: opts.name,
      serverHost: config.serverHost,
      created: config.created,
    }),
    0o644,
  );
}

/** A proxy's recorded host, which its clients connect to. @throws {InvalidOptionError} when it has none. */
function proxyHost(proxy: ProxyRecord | undefined): string | undefined {
  if (proxy === undefined) return undefined;
  if (proxy.host !== undefined) return proxy.host;
  throw new InvalidOptionError(
    "serverHost",
    `proxy ${proxy.name} has no recorded host (createproxy --host): give the host its clients connect to`,
  );
}

/**
 * Adds the key to `public_keys/`; a running server's KeyStore picks it up within about a second.
 * Forced over an old key, the old one is re-issued, not dropped: it stays allowed from
 * `retiring/` until the new key first connects or the overlap runs out (the running system keeps
 * its push channel until the new RPM is installed), or goes to `revoked/` now with overlap 0.
 */
async function addClientKey(
  opts: ResolvedClientPackageOptions,
  publicKey: string,
): Promise<{ retiring?: RetiringKey; revoked?: readonly StoredKey[] }> {
  let store: KeyStore | undefined;
  const metadata = { "created-by": "osad2-packager" };
  try {
    // One-shot use: no watching or polling, the store only writes.
    store = await KeyStore.open(opts.certificates, { pollIntervalMs: 0, fsWatch: false });
    if (!opts.force) {
      await store.add(opts.name, publicKey, { metadata });
      return {};
    }
    const { retiring, revoked } = await store.reissue(opts.name, publicKey, {
      overlapMs: opts.overlapMs,
      metadata,
    });
    return { ...(retiring ? { retiring } : {}), ...(revoked.length > 0 ? { revoked } : {}) };
  } catch (error) {
    if (error instanceof KeyExistsError) {
      throw new DuplicateClientError(opts.name, error.path, { cause: error });
    }
    throw new PackagerError(
      `cannot add the key of ${opts.name} to the allow-list, so its RPM was not kept: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await store?.close();
  }
}
