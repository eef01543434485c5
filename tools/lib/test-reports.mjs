// Where every suite's vitest JSON report lands: dist-test/results.json of each workspace
// package that has a "test" script (the same projects `nx run-many -t test` runs).
import fs from "node:fs";
import path from "node:path";

/** Workspace directories from the root package.json ("dir" or "dir/*" entries). */
function workspaceDirs(root) {
  const { workspaces = [] } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  return workspaces.flatMap((entry) => {
    if (!entry.endsWith("/*")) return [entry];
    const parent = entry.slice(0, -2);
    return fs
      .readdirSync(path.join(root, parent), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `${parent}/${d.name}`);
  });
}

/**
 * { name, part, report, notRun } for every suite: a workspace package's "test" script, and each of its
 * "test:PART" scripts (a part run on its own, e.g. the e2e package's across-hosts tests), sorted
 * by directory. "test" reports to dist-test/results.json, "test:PART" to
 * dist-test/results-PART.json. `notRun` is a directory where a suite leaves one file per part
 * the machine could not run (e.g. e2e/dist-test/not-run/across-hosts.txt when network
 * namespaces are not allowed), its text the reason.
 */
export function testReports(root) {
  const out = [];
  for (const dir of workspaceDirs(root).sort()) {
    const manifest = path.join(root, dir, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
    const name = pkg.name ?? dir;
    const notRun = path.join(root, dir, "dist-test", "not-run");
    for (const script of Object.keys(pkg.scripts ?? {}).sort()) {
      const part = script === "test" ? "" : /^test:([a-z0-9-]+)$/.exec(script)?.[1];
      if (part === undefined) continue;
      out.push({
        name: part ? `${name} (${part})` : name,
        part,
        report: path.join(root, dir, "dist-test", part ? `results-${part}.json` : "results.json"),
        notRun,
      });
    }
  }
  return out;
}
