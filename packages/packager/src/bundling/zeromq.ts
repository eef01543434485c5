// zeromq as the RPMs carry it: its JavaScript, its licences, per architecture the linux glibc
// addon its loader tries first (the highest Node ABI; it is N-API, so it also loads on Node 20),
// and from cmake-ts only the loader zeromq requires.
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { BundledComponent } from "../spec-common.js";
import { LIBSODIUM_NOTICE, collectLicenses, readPackageJson, staticLibrary } from "./licenses.js";

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** zeromq's addon loader, two levels below cmake-ts (whose "exports" hide its package.json). */
export function cmakeTsDirOf(zeromqDir: string): string {
  const loader = createRequire(import.meta.url).resolve("cmake-ts/build/loader", {
    paths: [zeromqDir],
  });
  return dirname(dirname(loader));
}

/** One addon of the bundle, by Node arch. */
export interface ZeromqAddon {
  /** Its key in zeromq's build/manifest.json. */
  readonly manifestKey: string;
  /** Relative to the directory holding node_modules/. */
  readonly path: string;
}

/** What {@link bundleZeromq} wrote. */
export interface BundledZeromq {
  readonly version: string;
  readonly addons: Readonly<Record<string, ZeromqAddon>>;
  /** zeromq, cmake-ts and the C libraries its addon links (libzmq, libsodium). */
  readonly bundled: readonly BundledComponent[];
}

/**
 * Writes zeromq and cmake-ts into `nodeModulesOut` with the addons of `archs` (Node's names) and
 * their licences into `<licenseDir>/licenses/`.
 */
export async function bundleZeromq(options: {
  readonly zeromqDir: string;
  readonly nodeModulesOut: string;
  readonly archs: readonly string[];
  readonly licenseDir: string;
}): Promise<BundledZeromq> {
  const { zeromqDir, nodeModulesOut, archs, licenseDir } = options;
  const zeromqPkg = await readPackageJson(zeromqDir);
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
      dependencies: { "cmake-ts": zeromqPkg.dependencies?.["cmake-ts"] },
    }),
  );

  const manifest = JSON.parse(
    await readFile(join(zeromqDir, "build", "manifest.json"), "utf8"),
  ) as Record<string, string>;
  const best = new Map<string, { key: string; abi: number; path: string }>();
  for (const [key, path] of Object.entries(manifest)) {
    const config = JSON.parse(key) as { os?: string; libc?: string; arch?: string; abi?: number };
    if (config.os !== "linux" || config.libc !== "glibc" || !archs.includes(config.arch ?? ""))
      continue;
    const current = best.get(config.arch ?? "");
    if (current === undefined || (config.abi ?? 0) > current.abi)
      best.set(config.arch ?? "", { key, abi: config.abi ?? 0, path });
  }
  const missing = archs.filter((arch) => !best.has(arch));
  if (missing.length > 0)
    throw new Error(`zeromq ${zeromqPkg.version}: no linux glibc addon for ${missing.join(", ")}`);
  const keptManifest: Record<string, string> = {};
  const addons: Record<string, ZeromqAddon> = {};
  let linksSodium = false;
  for (const [arch, { key, path }] of best) {
    const relative = path.split("\\").join("/");
    await mkdir(join(zmqOut, "build", dirname(relative)), { recursive: true });
    await copyFile(join(zeromqDir, "build", relative), join(zmqOut, "build", relative));
    linksSodium ||= (await readFile(join(zeromqDir, "build", relative))).includes("sodium_init");
    keptManifest[key] = relative;
    addons[arch] = { manifestKey: key, path: `node_modules/zeromq/build/${relative}` };
  }
  await writeFile(join(zmqOut, "build", "manifest.json"), JSON.stringify(keptManifest));

  const cmakeTsDir = cmakeTsDirOf(zeromqDir);
  const cmakeTsPkg = await readPackageJson(cmakeTsDir);
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
  // The addon links libzmq (MPL-2.0; zeromq's LICENSE_MPL-2.0.txt says where its source is) and,
  // for CURVE, libsodium. libzmq's version is what the addon reports, in a child process so this
  // one does not load it.
  const { stdout } = await promisify(execFile)(process.execPath, [
    "-e",
    `process.stdout.write(require(${JSON.stringify(zeromqDir)}).version)`,
  ]);
  const mplNotice = zeromqRecord.licenseFiles.find((file) => file.endsWith("LICENSE_MPL-2.0.txt"));
  if (mplNotice === undefined)
    throw new Error(`zeromq ${zeromqPkg.version} lacks LICENSE_MPL-2.0.txt`);
  bundled.push(
    await staticLibrary(licenseDir, {
      name: "libzmq",
      version: stdout.trim(),
      license: "MPL-2.0",
      reuse: mplNotice,
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
