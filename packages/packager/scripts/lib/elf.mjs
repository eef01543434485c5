// The highest glibc and libstdc++ symbol versions a native addon references (the version names
// sit in its dynamic string table), i.e. the oldest C library it runs on; the RPMs state it.
import { readFile } from "node:fs/promises";

const compare = (a, b) => {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
};
const highest = (versions) => versions.sort(compare).at(-1);

/** `{glibc, glibcxx}` over every ELF file in `paths` (e.g. `{glibc: "2.25", glibcxx: "3.4.22"}`). */
export async function libcNeeds(paths) {
  const glibc = [];
  const glibcxx = [];
  for (const path of paths) {
    const text = (await readFile(path)).toString("latin1");
    for (const match of text.matchAll(/GLIBC_(\d+(?:\.\d+)+)\0/g)) glibc.push(match[1]);
    for (const match of text.matchAll(/GLIBCXX_(\d+(?:\.\d+)+)\0/g)) glibcxx.push(match[1]);
  }
  if (glibc.length === 0) throw new Error(`no GLIBC_ symbol versions in ${paths.join(", ")}`);
  return { glibc: highest(glibc), glibcxx: highest(glibcxx) ?? "3.4" };
}
