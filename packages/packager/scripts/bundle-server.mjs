// Builds dist/server-bundle, what `osad2-packager serverrpm` puts into the server RPM:
//   package/   /usr/lib/osad2-server: @osad2/server as npm installs it (package.json, dist/) with
//              node_modules/ holding its production dependencies for this machine's architecture
//              (better-sqlite3's addon is built for this Node's ABI, zeromq keeps one prebuilt addon)
//   licenses/  the licence texts of everything bundled; man/ osad2-server(8) from its --help;
//   systemd/   @osad2/server's own unit, unchanged;  osad2-bundle.json  what the spec declares.
// The dependency tree is laid out like npm would (hoisted where versions agree, nested where they
// differ) and checked by resolving every dependency from where it was placed.
// Run after tsup and bundle-client: `node scripts/bundle-server.mjs`.
import { cp, copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { realpathSync, existsSync } from "node:fs";
import {
  collectLicenses,
  copyProjectLicense,
  isOwnPackage,
  licenseExpression,
  staticLibrary,
} from "./lib/licenses.mjs";
import { manPage } from "./lib/man-page.mjs";
import { libcNeeds } from "./lib/elf.mjs";
import { fixTree, walkFiles } from "./lib/tree.mjs";
import { bundleZeromq } from "./lib/zeromq.mjs";

const require = createRequire(import.meta.url);
const outDir = fileURLToPath(new URL("../dist/server-bundle/", import.meta.url));
const pkgOut = join(outDir, "package");
const readJson = async (path) => JSON.parse(await readFile(path, "utf8"));

/** Node arches the RPM names differently. */
const RPM_ARCH = { x64: "x86_64", arm64: "aarch64" };
if (RPM_ARCH[process.arch] === undefined)
  throw new Error(`the server RPM is built for x86_64 or aarch64, not ${process.arch}`);

/**
 * Dependencies only their own install step needs (better-sqlite3 fetches or builds its addon with
 * prebuild-install; zeromq compiles against node-addon-api): not shipped.
 */
const INSTALL_ONLY = { "better-sqlite3": ["prebuild-install"], zeromq: ["node-addon-api"] };
/** What of better-sqlite3 runs: its JavaScript and the addon, not the SQLite sources or build tree. */
const BETTER_SQLITE3_KEEP = [
  "package.json",
  "LICENSE",
  "README.md",
  "lib",
  "build/Release/better_sqlite3.node",
];

/** Top-level directories of npm packages that hold their own development files, not runtime code. */
const DEVELOPMENT_DIRS = ["test", "tests", "__tests__"];

const serverDir = dirname(require.resolve("@osad2/server/package.json"));
const serverPkg = await readJson(join(serverDir, "package.json"));

/** The package directory `name` resolves to from `fromDir`, as Node looks it up. */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name, "package.json");
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    if (dir === dirname(dir)) return undefined;
  }
}

// 1. The production closure, from the real directories the workspace resolves.
// Two installed copies of one name@version (hoisted differently in the workspace) are one package.
const packages = new Map(); // dir → {dir, pkg, deps: Map(name → dir)}
const canonical = new Map(); // name@version → the first dir seen with it
const canonicalDir = async (dir) => {
  const { name, version } = await readJson(join(dir, "package.json"));
  const id = `${name}@${version}`;
  if (!canonical.has(id)) canonical.set(id, dir);
  return canonical.get(id);
};
const queue = [await canonicalDir(realpathSync(serverDir))];
while (queue.length > 0) {
  const dir = queue.shift();
  if (packages.has(dir)) continue;
  const pkg = await readJson(join(dir, "package.json"));
  const deps = new Map();
  const skip = INSTALL_ONLY[pkg.name] ?? [];
  // zeromq and its loader are written by bundleZeromq, not copied.
  const names =
    pkg.name === "zeromq" ? [] : Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies });
  for (const name of names) {
    if (skip.includes(name)) continue;
    const found = resolvePackage(name, dir);
    if (found === undefined) {
      if (pkg.optionalDependencies?.[name] !== undefined) continue;
      throw new Error(`${pkg.name} needs ${name}, which is not installed`);
    }
    const dep = await canonicalDir(found);
    deps.set(name, dep);
    queue.push(dep);
  }
  packages.set(dir, { dir, pkg, deps });
}

// 2. Placement: each dependency as high as possible without shadowing another version, like npm.
// A location is a path of package names from the root ([] = /usr/lib/osad2-server itself).
const placed = new Map(); // location key → Map(name → real dir)
const keyOf = (location) => location.join("\0");
const placedAt = new Map(); // real dir → location (first placement)
placed.set(keyOf([]), new Map());
const rootDir = realpathSync(serverDir);
placedAt.set(rootDir, []);
const work = [[rootDir, []]];
while (work.length > 0) {
  const [dir, location] = work.shift();
  for (const [name, depDir] of packages.get(dir).deps) {
    // Walk up from the dependent's own node_modules; stop below a different version of `name`.
    let target;
    for (let depth = location.length; depth >= 0; depth -= 1) {
      const at = placed.get(keyOf(location.slice(0, depth))) ?? new Map();
      const there = at.get(name);
      if (there === depDir) {
        target = null; // already resolvable from here
        break;
      }
      if (there !== undefined) break;
      target = location.slice(0, depth);
    }
    if (target === null) continue;
    if (target === undefined) throw new Error(`layout error: two versions of ${name} at one place`);
    const key = keyOf(target);
    if (!placed.has(key)) placed.set(key, new Map());
    placed.get(key).set(name, depDir);
    const depLocation = [...target, name];
    if (!placedAt.has(depDir)) placedAt.set(depDir, depLocation);
    placed.set(keyOf(depLocation), placed.get(keyOf(depLocation)) ?? new Map());
    work.push([depDir, depLocation]);
  }
}
/** Directory of a location inside package/. */
const pathOf = (location) => join(pkgOut, ...location.flatMap((name) => ["node_modules", name]));

// 3. Check: from every placement, each dependency resolves to the version it was resolved to here.
const placements = []; // [location, real dir]
for (const [key, names] of placed) {
  const parent = key === "" ? [] : key.split("\0");
  for (const [name, dir] of names) placements.push([[...parent, name], dir]);
}
const lookup = (location, name) => {
  for (let depth = location.length; depth >= 0; depth -= 1) {
    const hit = placed.get(keyOf(location.slice(0, depth)))?.get(name);
    if (hit !== undefined) return hit;
  }
  return undefined;
};
for (const [location, dir] of [[[], rootDir], ...placements]) {
  for (const [name, expected] of packages.get(dir).deps) {
    if (lookup(location, name) !== expected)
      throw new Error(
        `layout error: ${location.join(" > ") || serverPkg.name} would not find its ${name}`,
      );
  }
}

// 4. Copy. osad2's packages as published (their "files" and package.json), others as installed.
await rm(outDir, { recursive: true, force: true });
await mkdir(pkgOut, { recursive: true });

async function copyPackage(dir, dest) {
  const pkg = packages.get(dir).pkg;
  await mkdir(dest, { recursive: true });
  if (isOwnPackage(pkg.name)) {
    for (const entry of ["package.json", "README.md", ...(pkg.files ?? [])]) {
      if (existsSync(join(dir, entry)))
        await cp(join(dir, entry), join(dest, entry), { recursive: true });
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
        // Its dependencies are placed by the layout above, not copied along; dotfiles (CI, editor
        // and lint settings) and a package's own test suite are not what it runs.
        return (
          !parts.includes("node_modules") &&
          !parts.some((part) => part.startsWith(".")) &&
          !DEVELOPMENT_DIRS.includes(parts[0])
        );
      },
    });
  }
}

let zeromqDir;
await copyPackage(rootDir, pkgOut);
// The unit goes to /usr/lib/systemd/system (from systemd/ below), not a second copy in the tree.
await rm(join(pkgOut, "dist", "systemd"), { recursive: true, force: true });
for (const [location, dir] of placements) {
  if (packages.get(dir).pkg.name === "zeromq") {
    zeromqDir = dir;
    continue;
  }
  await copyPackage(dir, pathOf(location));
}
// The server's test fixtures entry (@osad2/server/testing) seeds trial databases; it stays, as npm has it.
const zeromqLocation = placements.find(([, dir]) => dir === zeromqDir)?.[0];
if (zeromqDir === undefined || zeromqLocation === undefined)
  throw new Error("the server does not depend on zeromq");
const zeromq = await bundleZeromq({
  zeromqDir,
  nodeModulesOut: dirname(pathOf(zeromqLocation)),
  archs: [process.arch],
  licenseDir: outDir,
});
const shebangs = await fixTree(pkgOut);

// 5. Licences: every npm package, zeromq's C libraries, and SQLite inside better-sqlite3's addon.
const bundled = [...zeromq.bundled];
for (const { dir, pkg } of packages.values()) {
  if (isOwnPackage(pkg.name) || pkg.name === "zeromq") continue;
  if (bundled.some((b) => b.name === pkg.name && b.version === pkg.version)) continue;
  bundled.push(await collectLicenses(dir, outDir));
}
const sqliteDir = [...packages.values()].find(({ pkg }) => pkg.name === "better-sqlite3")?.dir;
if (sqliteDir !== undefined) {
  const source = await readFile(join(sqliteDir, "deps", "sqlite3", "sqlite3.c"), "latin1");
  const version = /^\*\* version (\d+\.\d+\.\d+)\./m.exec(source)?.[1];
  const blessing = /\*\* The author disclaims copyright[\s\S]*?taking more than you give\.\n/.exec(
    source,
  )?.[0];
  if (version === undefined || blessing === undefined)
    throw new Error("better-sqlite3's sqlite3.c has no version line or no blessing to bundle");
  bundled.push(
    await staticLibrary(outDir, {
      name: "sqlite",
      version,
      license: "blessing",
      text: `SQLite ${version}, linked into better-sqlite3's addon, is in the public domain:\n\n${blessing.replace(/^\*\* ?/gm, "")}`,
    }),
  );
}
bundled.sort(
  (a, b) => a.name.localeCompare(b.name) || (a.version ?? "").localeCompare(b.version ?? ""),
);
const projectLicense = await copyProjectLicense(outDir);

// 6. The unit, and osad2-server(8) from the bundled program itself (which proves it starts).
await mkdir(join(outDir, "systemd"), { recursive: true });
await copyFile(
  join(serverDir, "dist", "systemd", "osad2-server.service"),
  join(outDir, "systemd", "osad2-server.service"),
);
const serverConfig = (
  await import(pathToFileURL(join(serverDir, "dist", "index.js")).href)
).defaultServerConfig();
await mkdir(join(outDir, "man"), { recursive: true });
await writeFile(
  join(outDir, "man", "osad2-server.8.gz"),
  await manPage({
    cli: join(pkgOut, serverPkg.bin["osad2-server"]),
    name: "osad2-server",
    section: 8,
    date: new Date().toISOString().slice(0, 10),
    source: `osad2 ${serverPkg.version}`,
    files: [
      [
        "/etc/rhn/osad2-server/osad_server.cfg",
        "configuration ([main]); every key is also a --kebab-case flag",
      ],
      [
        "/etc/rhn/osad2-server/certs/",
        "private_keys/server.key_secret, the allow-list public_keys/*.key, revoked/",
      ],
      [
        "/var/lib/osad2/",
        "the standalone SQLite database (database = sqlite:/var/lib/osad2/osad2.db)",
      ],
    ],
    seeAlso: ["osad2-packager(1)", "systemctl(1)"],
  }),
);

await mkdir(join(outDir, "doc"), { recursive: true });
await copyFile(join(serverDir, "README.md"), join(outDir, "doc", "README.md"));
const addonFiles = [];
for await (const file of walkFiles(pkgOut)) if (file.endsWith(".node")) addonFiles.push(file);

const sizeOf = async (dir) => {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      total += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return total;
};
await writeFile(
  join(outDir, "osad2-bundle.json"),
  `${JSON.stringify(
    {
      serverVersion: serverPkg.version,
      description: serverPkg.description,
      arch: RPM_ARCH[process.arch],
      // better-sqlite3's addon is built for this Node's ABI: the RPM needs this major version.
      nodeMajor: Number(process.versions.node.split(".")[0]),
      bin: serverPkg.bin["osad2-server"],
      ports: {
        publisher: serverConfig.publisherPort,
        listener: serverConfig.listenerPort,
        xmlrpc: serverConfig.xmlrpcPort,
      },
      license: licenseExpression(bundled),
      projectLicense,
      bundled,
      manPages: ["man/osad2-server.8.gz"],
      docs: ["doc/README.md"],
      // Every native addon: better-sqlite3's (built where this bundle was) and zeromq's.
      needs: await libcNeeds(addonFiles),
      unit: "systemd/osad2-server.service",
    },
    null,
    2,
  )}\n`,
);
console.log(
  `server bundle: ${outDir} (@osad2/server ${serverPkg.version}, ${packages.size - 1} packages, ` +
    `${((await sizeOf(pkgOut)) / 1e6).toFixed(1)} MB, ${shebangs} shebangs fixed)`,
);
