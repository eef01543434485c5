// What serverrpm packages: the @osad2/server installed on this machine (next to the packager, or
// --server-dir) with its production node_modules, so its native addons (better-sqlite3 compiled
// here, zeromq's prebuilt one for this architecture) are this machine's. Written to a bundle
// directory laid out as:
//   package/   /usr/lib/osad2-server: @osad2/server as published (package.json, dist/) and node_modules/
//   licenses/  every licence text;  man/ osad2-server(8) and completions/ its bash completion (both
//              as @osad2/server ships them);  doc/ README.md;  systemd/ its unit
import { execFile } from "node:child_process";
import { cp, copyFile, mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describeSystemError } from "@osad2/service-kit";
import { rpmArchFor } from "./arch.js";
import { libcNeeds } from "./bundling/elf.js";
import { layoutTree, productionTree, type Location } from "./bundling/layout.js";
import {
  collectLicenses,
  copyProjectLicense,
  isOwnPackage,
  licenseExpression,
  readPackageJson,
  sortBundled,
  staticLibrary,
} from "./bundling/licenses.js";
import { stageCliDocs } from "./bundling/cli-docs.js";
import { fixTree, walkFiles } from "./bundling/tree.js";
import { bundleZeromq } from "./bundling/zeromq.js";
import type { BundleDocumentation } from "./documentation.js";
import { DEFAULT_PROXY_PORT } from "./constants.js";
import { ServerBundleError } from "./errors.js";
import type { ServerPorts } from "./server-files.js";
import type { BundledComponent, LibcNeeds } from "./spec-common.js";

/** What a server bundle holds, for the spec. */
export interface ServerBundleInfo extends BundleDocumentation {
  readonly serverVersion: string;
  /** The RPM architecture (`x86_64`, `aarch64`): this machine's, whose addons it carries. */
  readonly arch: string;
  /** better-sqlite3's addon is built for this Node major version's ABI. */
  readonly nodeMajor: number;
  /** The CLI inside the package, e.g. `dist/cli.js`. */
  readonly bin: string;
  readonly ports: ServerPorts;
  readonly needs: LibcNeeds;
  /** @osad2/server's unit, relative to the bundle. */
  readonly unit: string;
}

/** A built server bundle. */
export interface ServerBundle {
  readonly dir: string;
  readonly info: ServerBundleInfo;
}

const run = promisify(execFile);

/**
 * Dependencies only their own install step needs (better-sqlite3 fetches or builds its addon with
 * prebuild-install, zeromq compiles against node-addon-api), and zeromq's, which bundleZeromq writes.
 */
const SKIP_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  "better-sqlite3": ["prebuild-install"],
  zeromq: ["node-addon-api", "cmake-ts"],
};
/** What of better-sqlite3 runs: its JavaScript and the addon, not the SQLite sources or build tree. */
const BETTER_SQLITE3_KEEP = [
  "package.json",
  "LICENSE",
  "README.md",
  "lib",
  "build/Release/better_sqlite3.node",
];
/** Top-level directories of npm packages that hold their own development files. */
const DEVELOPMENT_DIRS = ["test", "tests", "__tests__"];

/** The @osad2/server next to the packager (npm install -g puts them side by side). */
export function defaultServerDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("@osad2/server/package.json"));
  } catch (error) {
    throw new ServerBundleError(
      "@osad2/server",
      "is not installed next to osad2-packager: npm install -g @osad2/server, or pass --server-dir",
      { cause: error },
    );
  }
}

async function copyPackage(dir: string, dest: string): Promise<void> {
  const pkg = await readPackageJson(dir);
  await mkdir(dest, { recursive: true });
  if (isOwnPackage(pkg.name)) {
    // As published: package.json, README.md and its "files" (a "!dir/prefix*" entry leaves out).
    const files = pkg.files ?? [];
    for (const entry of ["package.json", "README.md", ...files.filter((f) => !f.startsWith("!"))]) {
      const from = join(dir, entry);
      if (await stat(from).catch(() => undefined))
        await cp(from, join(dest, entry), { recursive: true });
    }
    for (const negated of files.filter((f) => f.startsWith("!"))) {
      const pattern = negated.slice(1);
      const prefix = pattern.replace(/\*$/, "");
      if (!pattern.endsWith("*") || prefix.includes("*"))
        throw new Error(`${pkg.name}: files entry ${negated} is not of the form !dir/prefix*`);
      const parent = join(dest, dirname(prefix));
      for (const name of await readdir(parent).catch(() => [] as string[]))
        if (name.startsWith(basename(prefix))) await rm(join(parent, name), { recursive: true });
    }
  } else if (pkg.name === "better-sqlite3") {
    for (const entry of BETTER_SQLITE3_KEEP) {
      await mkdir(dirname(join(dest, entry)), { recursive: true });
      await cp(join(dir, entry), join(dest, entry), { recursive: true });
    }
  } else {
    await cp(dir, dest, {
      recursive: true,
      filter: (source) => {
        const parts = relative(dir, source).split(sep);
        // Dependencies are placed by the layout, not copied along; dotfiles (CI, editor and lint
        // settings), a package's own test suite and its release scripts (pino's inc-version.sh,
        // which would make the RPM require bash) are not what it runs.
        return (
          !parts.includes("node_modules") &&
          !parts.some((part) => part.startsWith(".")) &&
          !DEVELOPMENT_DIRS.includes(parts[0] ?? "") &&
          !(parts.length === 1 && (parts[0] ?? "").endsWith(".sh"))
        );
      },
    });
  }
}

/** SQLite, linked into better-sqlite3's addon: its version (from the addon) and its blessing (from the source npm installs). */
async function sqliteRecord(
  pkgOut: string,
  sqliteSourceDir: string,
  outDir: string,
): Promise<BundledComponent> {
  const { stdout } = await run(
    process.execPath,
    [
      "-e",
      "const D = require('better-sqlite3'); process.stdout.write(new D(':memory:').prepare('select sqlite_version() v').get().v)",
    ],
    { cwd: pkgOut },
  );
  const source = await readFile(join(sqliteSourceDir, "deps", "sqlite3", "sqlite3.c"), "latin1");
  const blessing = /\*\* The author disclaims copyright[\s\S]*?taking more than you give\.\n/.exec(
    source,
  )?.[0];
  if (blessing === undefined) throw new Error("better-sqlite3's sqlite3.c carries no blessing");
  return staticLibrary(outDir, {
    name: "sqlite",
    version: stdout.trim(),
    license: "blessing",
    text: `SQLite ${stdout.trim()}, linked into better-sqlite3's addon, is in the public domain:\n\n${blessing.replace(/^\*\* ?/gm, "")}`,
  });
}

/**
 * Builds the bundle of the @osad2/server in `serverDir` into `outDir`. `projectLicense` is
 * osad2's LICENSE. Loads the bundled better-sqlite3, so a tree that
 * cannot run here is refused here.
 */
export async function buildServerBundle(options: {
  readonly serverDir: string;
  readonly outDir: string;
  readonly projectLicense: string;
}): Promise<ServerBundle> {
  const { serverDir, outDir } = options;
  try {
    return await build(serverDir, outDir, options.projectLicense);
  } catch (error) {
    if (error instanceof ServerBundleError) throw error;
    throw new ServerBundleError(
      serverDir,
      `cannot be packaged: ${describeSystemError(error).split("\n")[0] ?? ""}`,
      { cause: error },
    );
  }
}

async function build(serverDir: string, outDir: string, license: string): Promise<ServerBundle> {
  const arch = rpmArchFor(process.arch);
  if (arch === undefined)
    throw new ServerBundleError(serverDir, `cannot be packaged for ${process.arch}`);
  const serverPkg = await readPackageJson(serverDir);
  const bin = serverPkg.bin?.["osad2-server"]?.replace(/^\.\//, "");
  if (bin === undefined) throw new ServerBundleError(serverDir, "has no osad2-server binary");
  const unitSource = join(serverDir, "dist", "systemd", "osad2-server.service");
  if ((await stat(unitSource).catch(() => undefined)) === undefined)
    throw new ServerBundleError(serverDir, "is not built (no dist/systemd/osad2-server.service)");

  const packages = await productionTree(serverDir, SKIP_DEPENDENCIES);
  const placements = layoutTree(packages, serverDir);
  const pkgOut = join(outDir, "package");
  const pathOf = (location: Location): string =>
    join(pkgOut, ...location.flatMap((name) => ["node_modules", name]));

  await mkdir(pkgOut, { recursive: true });
  await copyPackage(serverDir, pkgOut);
  // The unit, man page and completion go to /usr/lib/systemd/system and /usr/share, not a second
  // copy in the tree.
  const cliDocs = await stageCliDocs(pkgOut, outDir);
  for (const dir of ["systemd", "man", "completions"])
    await rm(join(pkgOut, "dist", dir), { recursive: true, force: true });
  let zeromq: { dir: string; location: Location } | undefined;
  for (const { location, dir } of placements) {
    if (packages.get(dir)?.pkg.name === "zeromq") zeromq = { dir, location };
    else await copyPackage(dir, pathOf(location));
  }
  if (zeromq === undefined) throw new ServerBundleError(serverDir, "does not depend on zeromq");
  const zmq = await bundleZeromq({
    zeromqDir: zeromq.dir,
    nodeModulesOut: dirname(pathOf(zeromq.location)),
    archs: [process.arch],
    licenseDir: outDir,
  });
  await fixTree(pkgOut);

  const bundled: BundledComponent[] = [...zmq.bundled];
  for (const { dir, pkg } of packages.values()) {
    if (isOwnPackage(pkg.name) || pkg.name === "zeromq") continue;
    if (bundled.some((b) => b.name === pkg.name && b.version === pkg.version)) continue;
    bundled.push(await collectLicenses(dir, outDir));
  }
  const sqlite = [...packages.values()].find(({ pkg }) => pkg.name === "better-sqlite3");
  if (sqlite !== undefined) bundled.push(await sqliteRecord(pkgOut, sqlite.dir, outDir));
  const projectLicense = await copyProjectLicense(license, outDir);

  await mkdir(join(outDir, "systemd"), { recursive: true });
  await copyFile(unitSource, join(outDir, "systemd", "osad2-server.service"));
  await mkdir(join(outDir, "doc"), { recursive: true });
  await copyFile(join(serverDir, "README.md"), join(outDir, "doc", "README.md"));
  const addons: string[] = [];
  for await (const file of walkFiles(pkgOut)) if (file.endsWith(".node")) addons.push(file);
  const index = (await import(pathToFileURL(join(serverDir, "dist", "index.js")).href)) as {
    defaultServerConfig(): {
      publisherPort: number;
      listenerPort: number;
      xmlrpcPort: number;
      proxyPort?: number;
    };
  };
  const defaults = index.defaultServerConfig();
  return {
    dir: outDir,
    info: {
      serverVersion: serverPkg.version,
      arch,
      nodeMajor: Number(process.versions.node.split(".")[0]),
      bin,
      ports: {
        publisher: defaults.publisherPort,
        listener: defaults.listenerPort,
        xmlrpc: defaults.xmlrpcPort,
        // A server from before proxy_port has none: the port it will have.
        proxy: defaults.proxyPort ?? DEFAULT_PROXY_PORT,
      },
      needs: await libcNeeds(addons),
      license: licenseExpression(bundled),
      projectLicense,
      bundled: sortBundled(bundled),
      manPages: cliDocs.manPages,
      completions: cliDocs.completions,
      docs: ["doc/README.md"],
      unit: "systemd/osad2-server.service",
    },
  };
}

/** Moves the server's package tree (package.json, dist/, node_modules/) to `dest` (same file system). */
export async function stageServerPackage(bundle: ServerBundle, dest: string): Promise<void> {
  try {
    await mkdir(dirname(dest), { recursive: true });
    await rename(join(bundle.dir, "package"), dest);
  } catch (error) {
    throw new ServerBundleError(bundle.dir, `could not be copied: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}

/** Reads a file of the bundle (the unit). */
export async function readBundleFile(bundle: ServerBundle, path: string): Promise<string> {
  try {
    return await readFile(join(bundle.dir, path), "utf8");
  } catch (error) {
    throw new ServerBundleError(bundle.dir, `lacks ${path}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}
