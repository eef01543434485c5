// The "prepack" of every publishable package: refuses to pack (exit 1, one line saying what to
// run) when a file its package.json points at is missing — an unbuilt package would pack into a
// tarball without dist/ that installs without its command and without an error.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.cwd();
const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));

/** Every path in an exports map (conditions and subpaths nest). */
const exportPaths = (value) =>
  typeof value === "string"
    ? [value]
    : value === null || typeof value !== "object"
      ? []
      : Object.values(value).flatMap(exportPaths);
const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
const named = [pkg.main, pkg.types, ...bins, ...(pkg.man ?? []), ...exportPaths(pkg.exports)];
const missing = [...new Set(named.filter((p) => typeof p === "string"))].filter(
  (p) => !existsSync(join(dir, p)),
);
if (missing.length > 0) {
  process.stderr.write(
    `${pkg.name} is not built (missing ${missing.join(", ")}): run tools/pack, or ` +
      `npx nx run-many -t build in the repository, before npm pack\n`,
  );
  process.exit(1);
}
