import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeSystemError } from "@osad2/service-kit";
import type { BundleDocumentation } from "./documentation.js";
import { ServerBundleError } from "./errors.js";
import type { ServerPorts } from "./server-files.js";
import type { LibcNeeds } from "./spec-common.js";

/** `osad2-bundle.json` of dist/server-bundle, written by scripts/bundle-server.mjs. */
export interface ServerBundleInfo extends BundleDocumentation {
  readonly serverVersion: string;
  readonly description: string;
  /** The one architecture it was built for (`x86_64`, `aarch64`): its addons are this machine's. */
  readonly arch: string;
  /** better-sqlite3's addon is built for this Node major version's ABI. */
  readonly nodeMajor: number;
  /** The CLI inside the package, e.g. `./dist/cli.js`. */
  readonly bin: string;
  readonly ports: ServerPorts;
  readonly needs: LibcNeeds;
  /** @osad2/server's unit, relative to the bundle. */
  readonly unit: string;
}

/** A loaded server bundle. */
export interface ServerBundle {
  readonly dir: string;
  readonly info: ServerBundleInfo;
}

const INFO_FILE = "osad2-bundle.json";
/** The /usr/lib/osad2-server tree inside the bundle. */
const PACKAGE_DIR = "package";

/** dist/server-bundle seen from the built dist/*.js and from src/*.ts (tests run the sources). */
function defaultCandidates(): string[] {
  return [
    fileURLToPath(new URL("./server-bundle/", import.meta.url)),
    fileURLToPath(new URL("../dist/server-bundle/", import.meta.url)),
  ];
}

/** Finds and reads the server bundle; `dir` overrides the search. */
export async function loadServerBundle(dir?: string): Promise<ServerBundle> {
  const candidates = dir === undefined ? defaultCandidates() : [dir];
  for (const candidate of candidates) {
    let text: string;
    try {
      text = await readFile(join(candidate, INFO_FILE), "utf8");
    } catch {
      continue;
    }
    try {
      return { dir: candidate, info: JSON.parse(text) as ServerBundleInfo };
    } catch (error) {
      throw new ServerBundleError(candidate, `has an unreadable ${INFO_FILE}`, { cause: error });
    }
  }
  throw new ServerBundleError(candidates[0] ?? "server-bundle", `is missing (no ${INFO_FILE})`);
}

/** Copies the server's package tree (package.json, dist/, node_modules/) to `dest`. */
export async function stageServerPackage(bundle: ServerBundle, dest: string): Promise<void> {
  try {
    await cp(join(bundle.dir, PACKAGE_DIR), dest, { recursive: true, verbatimSymlinks: true });
  } catch (error) {
    throw new ServerBundleError(bundle.dir, `could not be copied: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}

/** Reads a file of the bundle (the unit). */
export async function readBundleFile(bundle: ServerBundle, path: string): Promise<string> {
  try {
    return await readFile(join(bundle.dir, path), "utf8");
  } catch (error) {
    throw new ServerBundleError(bundle.dir, `lacks ${path}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}
