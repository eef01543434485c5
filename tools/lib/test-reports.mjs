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
 * { name, report, notRun } for every workspace package with a test script, sorted by directory.
 * `notRun` is a directory where a suite leaves one file per part the machine could not run
 * (e.g. e2e/dist-test/not-run/across-hosts.txt when network namespaces are not allowed), its
 * text the reason.
 */
export function testReports(root) {
  const out = [];
  for (const dir of workspaceDirs(root).sort()) {
    const manifest = path.join(root, dir, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
    if (!pkg.scripts?.test) continue;
    out.push({
      name: pkg.name ?? dir,
      report: path.join(root, dir, "dist-test", "results.json"),
      notRun: path.join(root, dir, "dist-test", "not-run"),
    });
  }
  return out;
}
