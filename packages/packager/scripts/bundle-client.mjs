// Builds dist/client-bundle: the @osad2/client program as one ESM file (its registration helper as
// another) with every JavaScript dependency inlined, plus zeromq (kept as a package because it loads
// a native addon relative to its own files) with only the linux glibc addons. createclient copies
// this tree into /usr/lib/osad2-client of each RPM.
// The tree mirrors the published package (package.json, dist/cli.js) so paths the client resolves
// relative to itself (its ../package.json for the version) still work; cli.js at the top just imports it.
// It also copies the client's systemd unit, config template and clientCaps.d file to dist/client-files/.
// Besides the tree, licenses/ holds the licence texts of every package it bundles, man/ and
// completions/ the client's osad2-client(8) and bash completion; createclient installs those under /usr/share.
// Run after tsup (which empties dist/): `node scripts/bundle-client.mjs`.
import { build } from "esbuild";
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
// The licence, man page, completion and zeromq code serverrpm also runs (src/bundling, built by tsup first).
import {
  bundleZeromq,
  collectLicenses,
  copyProjectLicense,
  fixTree,
  isOwnPackage,
  libcNeeds,
  licenseExpression,
  packageDirOf,
  sortBundled,
  stageCliDocs,
} from "../dist/bundling.js";

/** The repository's LICENSE (GPL-2.0-only), shipped in every RPM. */
const PROJECT_LICENSE = fileURLToPath(new URL("../../../LICENSE", import.meta.url));

const require = createRequire(import.meta.url);
const outDir = fileURLToPath(new URL("../dist/client-bundle/", import.meta.url));

const readJson = async (path) => JSON.parse(await readFile(path, "utf8"));

const clientDir = dirname(require.resolve("@osad2/client/package.json"));
const clientPkg = await readJson(join(clientDir, "package.json"));
const clientEntry = join(clientDir, clientPkg.bin["osad2-client"]);
const zeromqDir = dirname(require.resolve("zeromq/package.json", { paths: [clientDir] }));

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

const { metafile } = await build({
  // register-child.js: the helper process osad2-client run makes its register_osad calls in; the
  // client finds it beside dist/cli.js. Each entry is one self-contained file.
  entryPoints: {
    cli: clientEntry,
    "register-child": join(clientDir, "dist", "register-child.js"),
  },
  metafile: true,
  outdir: join(outDir, "dist"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["zeromq"],
  // CommonJS dependencies (commander, pino, xmlrpc …) call require() for Node built-ins; an ESM bundle has none.
  banner: {
    js: 'import { createRequire as __osad2CreateRequire } from "node:module"; const require = __osad2CreateRequire(import.meta.url);',
  },
  legalComments: "eof",
  logLevel: "warning",
});
await writeFile(
  join(outDir, "package.json"),
  `${JSON.stringify(
    {
      name: clientPkg.name,
      version: clientPkg.version,
      description: clientPkg.description,
      license: clientPkg.license,
      private: true,
      type: "module",
      bin: { "osad2-client": "./cli.js" },
    },
    null,
    2,
  )}\n`,
);
await writeFile(join(outDir, "cli.js"), '#!/usr/bin/node\nimport "./dist/cli.js";\n', {
  mode: 0o755,
});
// esbuild keeps the client's hashbang (fixTree below makes it /usr/bin/node); both files are entry points.
await chmod(join(outDir, "dist", "cli.js"), 0o755);

const zeromq = await bundleZeromq({
  zeromqDir,
  nodeModulesOut: join(outDir, "node_modules"),
  archs: ["x64", "arm64"],
  licenseDir: outDir,
});
const addons = zeromq.addons;

// The client's own unit and config template: they exist once, in @osad2/client's dist/, and
// createclient installs these copies (dist/client-files/, also used by keys-only packages).
const filesOut = fileURLToPath(new URL("../dist/client-files/", import.meta.url));
await rm(filesOut, { recursive: true, force: true });
await mkdir(filesOut, { recursive: true });
for (const [from, name] of [
  ["dist/systemd/osad2-client.service", "osad2-client.service"],
  ["dist/config/osad_client.cfg", "osad_client.cfg"],
  ["dist/clientCaps.d/osad2", "clientCaps-osad2"],
]) {
  await copyFile(join(clientDir, from), join(filesOut, name));
}
// osad2's LICENSE: keys-only packages, which carry nothing else of anyone, ship it too.
await copyFile(PROJECT_LICENSE, join(filesOut, "LICENSE"));
await copyFile(join(clientDir, "README.md"), join(filesOut, "README.md"));

await fixTree(outDir);

// Licences: every npm package esbuild inlined (from its metafile) and zeromq's; osad2's own
// packages are covered by the project's LICENSE.
const inlined = new Set();
for (const input of Object.keys(metafile.inputs)) inlined.add(await packageDirOf(resolve(input)));
const bundled = [...zeromq.bundled];
for (const dir of inlined) {
  const { name, version } = await readJson(join(dir, "package.json"));
  // Two copies of one name@version (hoisted differently in the workspace) are one package.
  if (isOwnPackage(name) || bundled.some((b) => b.name === name && b.version === version)) continue;
  bundled.push(await collectLicenses(dir, outDir));
}
const projectLicense = await copyProjectLicense(PROJECT_LICENSE, outDir);

// The client's README as the RPM's %doc.
await mkdir(join(outDir, "doc"), { recursive: true });
await copyFile(join(clientDir, "README.md"), join(outDir, "doc", "README.md"));
const needs = {};
for (const [arch, addon] of Object.entries(addons))
  needs[arch] = await libcNeeds([join(outDir, addon.path)]);

// osad2-client(8) and its bash completion, as @osad2/client ships them (generated from its
// commander program when it was built).
const cliDocs = await stageCliDocs(clientDir, outDir);

// What createclient needs to know to stage one architecture and to declare what it bundles.
await writeFile(
  join(outDir, "osad2-bundle.json"),
  `${JSON.stringify(
    {
      clientVersion: clientPkg.version,
      zeromqVersion: zeromq.version,
      addons,
      license: licenseExpression(bundled),
      projectLicense,
      bundled: sortBundled(bundled),
      manPages: cliDocs.manPages,
      completions: cliDocs.completions,
      docs: ["doc/README.md"],
      needs,
    },
    null,
    2,
  )}\n`,
);
console.log(
  `client bundle: ${outDir} (@osad2/client ${clientPkg.version}, zeromq ${zeromq.version})`,
);
