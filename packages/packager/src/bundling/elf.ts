// The highest glibc and libstdc++ symbol versions native addons reference (the version names sit
// in their dynamic string tables), i.e. the oldest C library they run on; the RPMs state it.
import { readFile } from "node:fs/promises";
import type { LibcNeeds } from "../spec-common.js";

function compareVersions(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `{glibc, glibcxx}` over the ELF files in `paths`, e.g. `{glibc: "2.25", glibcxx: "3.4.22"}`. */
export async function libcNeeds(paths: readonly string[]): Promise<LibcNeeds> {
  const glibc: string[] = [];
  const glibcxx: string[] = [];
  for (const path of paths) {
    const text = (await readFile(path)).toString("latin1");
    for (const match of text.matchAll(/GLIBC_(\d+(?:\.\d+)+)\0/g)) glibc.push(match[1] ?? "");
    for (const match of text.matchAll(/GLIBCXX_(\d+(?:\.\d+)+)\0/g)) glibcxx.push(match[1] ?? "");
  }
  const highest = glibc.sort(compareVersions).at(-1);
  if (highest === undefined) throw new Error(`no GLIBC_ symbol versions in ${paths.join(", ")}`);
  return { glibc: highest, glibcxx: glibcxx.sort(compareVersions).at(-1) ?? "3.4" };
}
