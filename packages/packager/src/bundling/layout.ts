// The production dependency tree of an installed npm package, laid out for a node_modules/ of its
// own as npm would (each package as high as it can go without shadowing another version), and
// checked by resolving every dependency from where it was placed.
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { readPackageJson, type PackageJson } from "./licenses.js";

/** One package of the tree: the directory it is installed in and the directories its dependencies resolve to. */
export interface TreePackage {
  readonly dir: string;
  readonly pkg: PackageJson;
  readonly deps: ReadonlyMap<string, string>;
}

/** The package directory `name` resolves to from `fromDir`, as Node looks it up. */
function resolvePackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name, "package.json");
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    if (dir === dirname(dir)) return undefined;
  }
}

/**
 * Every package `rootDir` needs at run time (dependencies and installed optional ones), keyed by
 * directory; `skip[name]` lists dependencies of `name` not to follow (install-time only, or
 * packaged otherwise). Two installed copies of one name@version count as one package.
 */
export async function productionTree(
  rootDir: string,
  skip: Readonly<Record<string, readonly string[]>>,
): Promise<Map<string, TreePackage>> {
  const packages = new Map<string, TreePackage>();
  const canonical = new Map<string, string>(); // name@version → first dir seen
  const canonicalDir = async (dir: string): Promise<string> => {
    const { name, version } = await readPackageJson(dir);
    const id = `${name}@${version}`;
    if (!canonical.has(id)) canonical.set(id, dir);
    return canonical.get(id) ?? dir;
  };
  const queue = [await canonicalDir(realpathSync(rootDir))];
  while (queue.length > 0) {
    const dir = queue.shift() ?? "";
    if (packages.has(dir)) continue;
    const pkg = await readPackageJson(dir);
    const skipped = skip[pkg.name] ?? [];
    const deps = new Map<string, string>();
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      if (skipped.includes(name)) continue;
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
  return packages;
}

/** Where a package goes: the chain of package names from the root (`[]` is the root itself). */
export type Location = readonly string[];

/** Each placement of a package below the root: its location and its directory. */
export interface Placement {
  readonly location: Location;
  readonly dir: string;
}

/**
 * Places every dependency as high as possible without shadowing a different version of the same
 * name, then checks that from each placement every dependency resolves to what it resolved to in
 * `packages`. Throws when no such layout was found.
 */
export function layoutTree(
  packages: ReadonlyMap<string, TreePackage>,
  rootDir: string,
): Placement[] {
  const keyOf = (location: Location): string => location.join("\0");
  const placed = new Map<string, Map<string, string>>([["", new Map()]]); // location → name → dir
  const root = [...packages.keys()][0] ?? realpathSync(rootDir);
  const work: Array<[string, Location]> = [[root, []]];
  while (work.length > 0) {
    const [dir, location] = work.shift() ?? [root, []];
    for (const [name, depDir] of packages.get(dir)?.deps ?? []) {
      // Walk up from the dependent's own node_modules; stop below a different version of `name`.
      let target: Location | null | undefined;
      for (let depth = location.length; depth >= 0; depth -= 1) {
        const there = placed.get(keyOf(location.slice(0, depth)))?.get(name);
        if (there === depDir) {
          target = null; // already resolvable from here
          break;
        }
        if (there !== undefined) break;
        target = location.slice(0, depth);
      }
      if (target === null) continue;
      if (target === undefined) throw new Error(`layout: two versions of ${name} at one place`);
      const at = placed.get(keyOf(target)) ?? new Map<string, string>();
      placed.set(keyOf(target), at.set(name, depDir));
      const depLocation = [...target, name];
      if (!placed.has(keyOf(depLocation))) placed.set(keyOf(depLocation), new Map());
      work.push([depDir, depLocation]);
    }
  }
  const placements: Placement[] = [];
  for (const [key, names] of placed) {
    const parent = key === "" ? [] : key.split("\0");
    for (const [name, dir] of names) placements.push({ location: [...parent, name], dir });
  }
  const lookup = (location: Location, name: string): string | undefined => {
    for (let depth = location.length; depth >= 0; depth -= 1) {
      const hit = placed.get(keyOf(location.slice(0, depth)))?.get(name);
      if (hit !== undefined) return hit;
    }
    return undefined;
  };
  for (const { location, dir } of [{ location: [], dir: root }, ...placements]) {
    for (const [name, expected] of packages.get(dir)?.deps ?? []) {
      if (lookup(location, name) !== expected)
        throw new Error(`layout: ${location.join(" > ") || "the root"} would not find its ${name}`);
    }
  }
  return placements;
}
