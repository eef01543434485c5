// Licence texts of what an RPM bundles: every bundled npm package's own LICENSE/COPYING/NOTICE
// files, copied under licenses/<name>-<version>/ of a bundle, so the RPM ships them as %license.
// osad2's own packages (@osad2/*) are covered by the project's LICENSE.
import { copyFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BundledComponent } from "../spec-common.js";

/** The SPDX id of osad2's own licence (the repository's LICENSE). */
export const PROJECT_LICENSE_ID = "GPL-2.0-only";

const LICENSE_FILE = /^(licen[cs]e|copying|notice)([._-].*)?$/i;

/** The fields of a package.json the packager reads. */
export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly license?: unknown;
  readonly author?: unknown;
  readonly description?: string;
  readonly main?: string;
  readonly bin?: Record<string, string>;
  readonly files?: readonly string[];
  /** Man pages npm links into share/man on a global install. */
  readonly man?: readonly string[];
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

export async function readPackageJson(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as PackageJson;
}

/** True for osad2's own workspace packages, licensed by the project's LICENSE. */
export function isOwnPackage(name: string): boolean {
  return name.startsWith("@osad2/");
}

/** The nearest directory at or above `file` whose package.json has a name (nested ones such as `{"type":"module"}` have none). */
export async function packageDirOf(file: string): Promise<string> {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    try {
      const pkg = (await readPackageJson(dir)) as Partial<PackageJson>;
      if (typeof pkg.name === "string") return dir;
    } catch {
      // no package.json here
    }
    if (dir === dirname(dir)) throw new Error(`${file} belongs to no npm package`);
  }
}

/** The MIT text, for a package that declares MIT but ships no licence file (cmake-ts). */
const MIT_TEXT = `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

/** libsodium's licence (ISC, from its LICENSE file): zeromq's prebuilt addon links it statically. */
export const LIBSODIUM_NOTICE = `ISC License

Copyright (c) 2013-2024
Frank Denis <j at pureftpd dot org>

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
`;

function authorOf(pkg: PackageJson): string {
  if (typeof pkg.author === "string") return pkg.author;
  const name = (pkg.author as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : `the ${pkg.name} authors`;
}

/**
 * Copies the licence files of the package in `dir` to `<outDir>/licenses/<name>-<version>/` and
 * returns its record (licence file paths relative to `outDir`). A package without a licence file
 * is refused unless it declares MIT, whose text is then written with its author, saying so.
 */
export async function collectLicenses(dir: string, outDir: string): Promise<BundledComponent> {
  const pkg = await readPackageJson(dir);
  if (typeof pkg.license !== "string")
    throw new Error(`${pkg.name} ${pkg.version} declares no license`);
  const license = pkg.license;
  const rel = `licenses/${pkg.name}-${pkg.version}`;
  await mkdir(join(outDir, rel), { recursive: true });
  const files = (await readdir(dir)).filter((name) => LICENSE_FILE.test(name)).sort();
  for (const file of files) await copyFile(join(dir, file), join(outDir, rel, file));
  if (files.length === 0) {
    if (license !== "MIT")
      throw new Error(`${pkg.name} ${pkg.version} (${license}) ships no licence file to bundle`);
    await writeFile(
      join(outDir, rel, "LICENSE"),
      `${pkg.name} ${pkg.version} ships no licence file; its package.json declares "license": "MIT".\n\n` +
        `Copyright (c) ${authorOf(pkg)}\n\n${MIT_TEXT}`,
    );
    files.push("LICENSE");
  }
  return {
    kind: "npm",
    name: pkg.name,
    version: pkg.version,
    license,
    licenseFiles: files.map((file) => `${rel}/${file}`),
  };
}

/** What {@link staticLibrary} records: a C library inside a native addon. */
export interface StaticLibrary {
  readonly name: string;
  readonly version?: string;
  readonly license: string;
  /** Its licence text, written to `licenses/<name>/LICENSE`… */
  readonly text?: string;
  /** …or a licence file already collected (relative to the bundle). */
  readonly reuse?: string;
}

/** Records a C library linked into a native addon, bundled without an npm package of its own (`bundled(<name>)`). */
export async function staticLibrary(outDir: string, lib: StaticLibrary): Promise<BundledComponent> {
  let licenseFiles: string[];
  if (lib.reuse !== undefined) licenseFiles = [lib.reuse];
  else {
    const rel = `licenses/${lib.name}`;
    await mkdir(join(outDir, rel), { recursive: true });
    await writeFile(join(outDir, rel, "LICENSE"), lib.text ?? "");
    licenseFiles = [`${rel}/LICENSE`];
  }
  return {
    kind: "static",
    name: lib.name,
    ...(lib.version === undefined ? {} : { version: lib.version }),
    license: lib.license,
    licenseFiles,
  };
}

/** The RPM License tag: osad2's licence AND every bundled one, each once, compound ones in parentheses. */
export function licenseExpression(bundled: readonly BundledComponent[]): string {
  const ids = new Set<string>();
  for (const { license } of bundled) {
    const parts = /\bOR\b/.test(license) ? [license] : license.split(/\s+AND\s+/);
    for (const part of parts) {
      const bare = part.replace(/^\((.*)\)$/, "$1").trim();
      ids.add(/\s/.test(bare) ? `(${bare})` : bare);
    }
  }
  ids.delete(PROJECT_LICENSE_ID);
  return [PROJECT_LICENSE_ID, ...[...ids].sort()].join(" AND ");
}

/** Copies the project's LICENSE (`from`) to `<outDir>/licenses/LICENSE`; returns its relative path. */
export async function copyProjectLicense(from: string, outDir: string): Promise<string> {
  await mkdir(join(outDir, "licenses"), { recursive: true });
  await copyFile(from, join(outDir, "licenses", "LICENSE"));
  return "licenses/LICENSE";
}

/** Sorted by name, then version. */
export function sortBundled(bundled: readonly BundledComponent[]): BundledComponent[] {
  return [...bundled].sort(
    (a, b) => a.name.localeCompare(b.name) || (a.version ?? "").localeCompare(b.version ?? ""),
  );
}
