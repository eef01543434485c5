import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { copyFileAtomic, describeSystemError, errnoCode } from "@osad2/service-kit";
import { renderWrapper } from "./client-files.js";
import { stageDocumentation } from "./documentation.js";
import { OutputDirError, PackagerError, ServerBundleError } from "./errors.js";
import { directoryProblem, pathExists, writeStaged } from "./fs-util.js";
import { parseServerPackageOptions, type ServerPackageOptions } from "./options.js";
import { makeTopdir, resolveRpmbuild, runRpmbuild } from "./rpmbuild.js";
import { rpmArchFor } from "./arch.js";
import { CLIENT_TEMPLATE_FILES, loadClientTemplates } from "./client-templates.js";
import {
  buildServerBundle,
  defaultServerDir,
  readBundleFile,
  stageServerPackage,
} from "./server-bundle.js";
import { readPackageJson } from "./bundling/licenses.js";
import { renderServerConfig } from "./server-config.js";
import {
  SERVER_PATHS,
  renderFirewalldProxiesService,
  renderFirewalldService,
  renderLogrotate,
  renderServerDropIn,
  renderSysusers,
} from "./server-files.js";
import { SERVER_RPM_NAME, renderServerSpec, serverRpmFileName } from "./server-spec.js";
import { packagerHost } from "./spec-common.js";

/** What {@link createServerPackage} made. */
export interface ServerPackage {
  /** The RPM written to the output directory. */
  readonly rpmPath: string;
  /** @osad2/server's version, the RPM's. */
  readonly version: string;
  readonly arch: string;
}

/**
 * Builds `osad2-server-<version>-<release>.<arch>.rpm` for the Spacewalk host from the
 * @osad2/server installed on this machine: the server with its node_modules for this architecture,
 * its unit (run as the osad2 user), config, logrotate and firewalld files, man page and licences.
 * It holds no key: the service creates the server's key pair on its first start.
 * @throws {PackagerError} subclasses for bad options, a missing bundle and rpmbuild failures.
 */
export async function createServerPackage(
  options: ServerPackageOptions = {},
): Promise<ServerPackage> {
  const opts = parseServerPackageOptions(options);
  const rpmbuild = await resolveRpmbuild(opts.rpmbuild);
  const serverDir = opts.serverDir ?? defaultServerDir();
  const arch = rpmArchFor(process.arch);
  if (arch === undefined)
    throw new ServerBundleError(
      serverDir,
      `cannot be packaged for ${process.arch}: x64 or arm64 only`,
    );
  const { version } = await readServerVersion(serverDir);
  const outProblem = await directoryProblem(opts.out);
  if (outProblem !== undefined) throw new OutputDirError(opts.out, outProblem);
  const rpmName = serverRpmFileName({ version, release: opts.release, arch });
  const rpmPath = join(opts.out, rpmName);
  if (!opts.force && (await pathExists(rpmPath)))
    throw new OutputDirError(opts.out, `already holds ${rpmName} (pass --force to replace it)`);
  const templates = await loadClientTemplates();

  const created = new Date();
  const p = SERVER_PATHS;
  const topdir = await makeTopdir(opts.tmpDir);
  try {
    const bundle = await buildServerBundle({
      serverDir,
      outDir: join(topdir, "bundle"),
      projectLicense: join(templates.dir, CLIENT_TEMPLATE_FILES.license),
    });
    const { info } = bundle;
    const root = join(topdir, "SOURCES", "root");
    await stageServerPackage(bundle, join(root, p.libDir));
    await writeStaged(
      root,
      p.bin,
      renderWrapper(`${p.libDir}/${info.bin.replace(/^\.\//, "")}`),
      0o755,
    );
    await writeStaged(root, p.unit, await readBundleFile(bundle, info.unit), 0o644);
    await writeStaged(root, p.dropIn, renderServerDropIn(), 0o644);
    await writeStaged(root, p.sysusers, renderSysusers(), 0o644);
    await writeStaged(root, p.logrotate, renderLogrotate(), 0o644);
    await writeStaged(root, p.firewalld, renderFirewalldService(info.ports), 0o644);
    await writeStaged(root, p.firewalldProxies, renderFirewalldProxiesService(info.ports), 0o644);
    await writeStaged(
      root,
      p.config,
      renderServerConfig({ certificates: p.certsDir, created, writtenBy: "the osad2-server RPM" }),
      0o640,
    );
    for (const dir of [
      p.privateKeysDir,
      p.publicKeysDir,
      p.revokedDir,
      p.retiringDir,
      p.proxiesDir,
      p.stateDir,
      p.logDir,
    ])
      await mkdir(join(root, dir), { recursive: true });
    const documentationFiles = await stageDocumentation(
      bundle.dir,
      info,
      root,
      SERVER_RPM_NAME,
      "server",
    );

    const specPath = join(topdir, "SPECS", `${SERVER_RPM_NAME}.spec`);
    await writeFile(
      specPath,
      renderServerSpec({
        version: info.serverVersion,
        release: opts.release,
        arch: info.arch,
        license: info.license,
        bundled: info.bundled,
        nodeMajor: info.nodeMajor,
        needs: info.needs,
        buildHost: packagerHost(),
        created,
        documentationFiles,
      }),
      { mode: 0o644 },
    );
    await runRpmbuild(rpmbuild, specPath, topdir, info.arch);
    const built = join(topdir, "RPMS", info.arch, rpmName);
    if (!(await pathExists(built)))
      throw new PackagerError(`rpmbuild reported success but did not write ${built}`);
    try {
      await mkdir(opts.out, { recursive: true });
      // No secret inside (keys are made on the host): readable like any package.
      await copyFileAtomic(built, rpmPath, { mode: 0o644, overwrite: opts.force });
    } catch (error) {
      if (errnoCode(error) === "EEXIST")
        throw new OutputDirError(
          opts.out,
          `already holds ${rpmName} (pass --force to replace it)`,
          {
            cause: error,
          },
        );
      throw new OutputDirError(opts.out, `cannot take ${rpmPath}: ${describeSystemError(error)}`, {
        cause: error,
      });
    }
  } finally {
    await rm(topdir, { recursive: true, force: true });
  }
  return { rpmPath, version, arch };
}

async function readServerVersion(serverDir: string): Promise<{ version: string }> {
  try {
    const pkg = await readPackageJson(serverDir);
    if (pkg.name !== "@osad2/server") throw new Error(`it holds ${pkg.name}`);
    return { version: pkg.version };
  } catch (error) {
    throw new ServerBundleError(
      serverDir,
      `is not an installed @osad2/server: ${describeSystemError(error)}`,
      {
        cause: error,
      },
    );
  }
}
