// zeromq as the RPMs carry it: its JavaScript, its licences, per architecture the linux glibc addon
// its loader tries first (the highest Node ABI; it is N-API, so it also loads on Node 20, and needs
// only glibc 2.25), and from cmake-ts only the loader zeromq requires.
import { copyFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { LIBSODIUM_NOTICE, collectLicenses, staticLibrary } from "./licenses.mjs";

const require = createRequire(import.meta.url);
const readJson = async (path) => JSON.parse(await readFile(path, "utf8"));
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

/** zeromq's addon loader, two levels below cmake-ts (whose "exports" hide its package.json). */
export function cmakeTsDirOf(zeromqDir) {
  return dirname(dirname(require.resolve("cmake-ts/build/loader", { paths: [zeromqDir] })));
}

/**
 * Writes zeromq and cmake-ts into `nodeModulesOut` with the addons of `archs` (Node's names) and
 * their licences into `<licenseDir>/licenses/`. Returns `{version, addons, bundled}`: addons by
 * arch (`manifestKey`, `path` relative to nodeModulesOut's parent), and the licence records of
 * zeromq, cmake-ts and the C libraries its addon links (libzmq, libsodium).
 */
export async function bundleZeromq({ zeromqDir, nodeModulesOut, archs, licenseDir }) {
  const zeromqPkg = await readJson(join(zeromqDir, "package.json"));
  const zmqOut = join(nodeModulesOut, "zeromq");
  await mkdir(join(zmqOut, "lib"), { recursive: true });
  for (const file of await readdir(join(zeromqDir, "lib"))) {
    if (file.endsWith(".js"))
      await copyFile(join(zeromqDir, "lib", file), join(zmqOut, "lib", file));
  }
  for (const file of ["LICENSE.txt", "LICENSE_MPL-2.0.txt"])
    await copyFile(join(zeromqDir, file), join(zmqOut, file));
  await writeFile(
    join(zmqOut, "package.json"),
    json({
      name: zeromqPkg.name,
      version: zeromqPkg.version,
      description: zeromqPkg.description,
      license: zeromqPkg.license,
      main: zeromqPkg.main,
      type: "commonjs",
      dependencies: { "cmake-ts": zeromqPkg.dependencies["cmake-ts"] },
    }),
  );

  const manifest = await readJson(join(zeromqDir, "build", "manifest.json"));
  const best = new Map(); // arch → [configKey, config, path]
  for (const [key, path] of Object.entries(manifest)) {
    const config = JSON.parse(key);
    if (config.os !== "linux" || config.libc !== "glibc" || !archs.includes(config.arch)) continue;
    const current = best.get(config.arch);
    if (current === undefined || (config.abi ?? 0) > (current[1].abi ?? 0))
      best.set(config.arch, [key, config, path]);
  }
  const missing = archs.filter((arch) => !best.has(arch));
  if (missing.length > 0)
    throw new Error(`zeromq ${zeromqPkg.version}: no linux glibc addon for ${missing.join(", ")}`);
  const keptManifest = {};
  const addons = {};
  let linksSodium = false;
  for (const [arch, [key, , path]] of best) {
    const relative = path.split("\\").join("/");
    await mkdir(join(zmqOut, "build", dirname(relative)), { recursive: true });
    await copyFile(join(zeromqDir, "build", relative), join(zmqOut, "build", relative));
    linksSodium ||= (await readFile(join(zeromqDir, "build", relative))).includes("sodium_init");
    keptManifest[key] = relative;
    addons[arch] = { manifestKey: key, path: `node_modules/zeromq/build/${relative}` };
  }
  await writeFile(join(zmqOut, "build", "manifest.json"), JSON.stringify(keptManifest));

  const cmakeTsDir = cmakeTsDirOf(zeromqDir);
  const cmakeTsPkg = await readJson(join(cmakeTsDir, "package.json"));
  const cmakeOut = join(nodeModulesOut, "cmake-ts");
  await mkdir(join(cmakeOut, "build"), { recursive: true });
  await copyFile(join(cmakeTsDir, "build", "loader.js"), join(cmakeOut, "build", "loader.js"));
  await writeFile(
    join(cmakeOut, "package.json"),
    json({
      name: cmakeTsPkg.name,
      version: cmakeTsPkg.version,
      license: cmakeTsPkg.license,
      exports: { "./build/loader": "./build/loader.js", "./build/loader.js": "./build/loader.js" },
    }),
  );

  const zeromqRecord = await collectLicenses(zeromqDir, licenseDir);
  const bundled = [zeromqRecord, await collectLicenses(cmakeTsDir, licenseDir)];
  // The addon links libzmq (MPL-2.0, zeromq's LICENSE_MPL-2.0.txt) and, for CURVE, libsodium.
  const libzmqVersion = require(zeromqDir).version;
  bundled.push(
    await staticLibrary(licenseDir, {
      name: "libzmq",
      version: libzmqVersion,
      license: "MPL-2.0",
      reuse: zeromqRecord.licenseFiles.find((file) => file.endsWith("LICENSE_MPL-2.0.txt")),
    }),
  );
  if (linksSodium) {
    bundled.push(
      await staticLibrary(licenseDir, {
        name: "libsodium",
        license: "ISC",
        text: LIBSODIUM_NOTICE,
      }),
    );
  }
  return { version: zeromqPkg.version, addons, bundled };
}
