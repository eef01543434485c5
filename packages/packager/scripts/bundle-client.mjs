// Builds dist/client-bundle: the @osad2/client program as one ESM file with every JavaScript dependency
// inlined, plus zeromq (kept as a package because it loads a native addon relative to its own files) with
// only the linux glibc addons. createclient copies this tree into /usr/lib/osad2-client of each RPM.
// The tree mirrors the published package (package.json, dist/cli.js) so paths the client resolves
// relative to itself (its ../package.json for the version) still work; cli.js at the top just imports it.
// It also copies the client's systemd unit, config template and clientCaps.d file to dist/client-files/.
// Run after tsup (which empties dist/): `node scripts/bundle-client.mjs`.
import { build } from "esbuild";
import { chmod, copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const outDir = fileURLToPath(new URL("../dist/client-bundle/", import.meta.url));

const readJson = async (path) => JSON.parse(await readFile(path, "utf8"));

const clientDir = dirname(require.resolve("@osad2/client/package.json"));
const clientPkg = await readJson(join(clientDir, "package.json"));
const clientEntry = join(clientDir, clientPkg.bin["osad2-client"]);
const zeromqDir = dirname(require.resolve("zeromq/package.json", { paths: [clientDir] }));
const zeromqPkg = await readJson(join(zeromqDir, "package.json"));
// cmake-ts's "exports" hide its package.json; its loader is what zeromq requires, two levels down.
const cmakeTsDir = dirname(
  dirname(require.resolve("cmake-ts/build/loader", { paths: [zeromqDir] })),
);
const cmakeTsPkg = await readJson(join(cmakeTsDir, "package.json"));

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

await build({
  entryPoints: [clientEntry],
  outfile: join(outDir, "dist", "cli.js"),
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
await writeFile(join(outDir, "cli.js"), '#!/usr/bin/env node\nimport "./dist/cli.js";\n', {
  mode: 0o755,
});
// esbuild marks a bundle with a hashbang executable; say so explicitly, both files are entry points.
await chmod(join(outDir, "dist", "cli.js"), 0o755);

// zeromq: its JavaScript, licences, and per architecture the linux glibc addon the loader tries first
// (the highest Node ABI; it is N-API, so it also loads on Node 20, and needs only glibc 2.25).
const zmqOut = join(outDir, "node_modules", "zeromq");
await mkdir(join(zmqOut, "lib"), { recursive: true });
for (const file of await readdir(join(zeromqDir, "lib"))) {
  if (file.endsWith(".js")) await copyFile(join(zeromqDir, "lib", file), join(zmqOut, "lib", file));
}
for (const file of ["LICENSE.txt", "LICENSE_MPL-2.0.txt"])
  await copyFile(join(zeromqDir, file), join(zmqOut, file));
await writeFile(
  join(zmqOut, "package.json"),
  `${JSON.stringify(
    {
      name: zeromqPkg.name,
      version: zeromqPkg.version,
      description: zeromqPkg.description,
      license: zeromqPkg.license,
      main: zeromqPkg.main,
      type: "commonjs",
      dependencies: { "cmake-ts": zeromqPkg.dependencies["cmake-ts"] },
    },
    null,
    2,
  )}\n`,
);

const manifest = await readJson(join(zeromqDir, "build", "manifest.json"));
const best = new Map(); // arch → [configKey, config, path]
for (const [key, path] of Object.entries(manifest)) {
  const config = JSON.parse(key);
  if (config.os !== "linux" || config.libc !== "glibc" || !["x64", "arm64"].includes(config.arch))
    continue;
  const current = best.get(config.arch);
  if (current === undefined || (config.abi ?? 0) > (current[1].abi ?? 0))
    best.set(config.arch, [key, config, path]);
}
if (!best.has("x64") || !best.has("arm64"))
  throw new Error(`zeromq ${zeromqPkg.version}: no linux glibc addon for x64 and arm64`);
const keptManifest = {};
const addons = {};
for (const [arch, [key, , path]] of best) {
  const relative = path.split("\\").join("/");
  await mkdir(join(zmqOut, "build", dirname(relative)), { recursive: true });
  await copyFile(join(zeromqDir, "build", relative), join(zmqOut, "build", relative));
  keptManifest[key] = relative;
  addons[arch] = { manifestKey: key, path: `node_modules/zeromq/build/${relative}` };
}
await writeFile(join(zmqOut, "build", "manifest.json"), JSON.stringify(keptManifest));

// cmake-ts: zeromq's addon loader needs only build/loader.js from it.
const cmakeOut = join(outDir, "node_modules", "cmake-ts");
await mkdir(join(cmakeOut, "build"), { recursive: true });
await copyFile(join(cmakeTsDir, "build", "loader.js"), join(cmakeOut, "build", "loader.js"));
await writeFile(
  join(cmakeOut, "package.json"),
  `${JSON.stringify(
    {
      name: cmakeTsPkg.name,
      version: cmakeTsPkg.version,
      license: cmakeTsPkg.license,
      exports: { "./build/loader": "./build/loader.js", "./build/loader.js": "./build/loader.js" },
    },
    null,
    2,
  )}\n`,
);

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

// What createclient needs to know to stage one architecture.
await writeFile(
  join(outDir, "osad2-bundle.json"),
  `${JSON.stringify({ clientVersion: clientPkg.version, zeromqVersion: zeromqPkg.version, addons }, null, 2)}\n`,
);
console.log(
  `client bundle: ${outDir} (@osad2/client ${clientPkg.version}, zeromq ${zeromqPkg.version})`,
);
