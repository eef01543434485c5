// Build step of the CLI packages (`tsup && node ../service-kit/scripts/write-cli-docs.mjs`, run in
// the package): imports the package's built dist/cli-docs.js and writes its man page and bash
// completion into dist/man and dist/completions, which its package.json ships ("files", "man").
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeCliDocs } from "../dist/index.js";

const dir = process.cwd();
const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
const { cliDocs } = await import(pathToFileURL(join(dir, "dist", "cli-docs.js")).href);
const written = await writeCliDocs(cliDocs, join(dir, "dist"), { version: pkg.version });
console.log(`${pkg.name}: dist/${written.manPage}, dist/${written.bashCompletion}`);
