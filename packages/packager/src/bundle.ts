import { cp, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ClientBundleError } from "./errors.js";
import { describeSystemError } from "@osad2/service-kit";
import type { BundleLicenses, LibcNeeds } from "./spec-common.js";

/** `osad2-bundle.json`, written by scripts/bundle-client.mjs next to the bundled client. */
export interface ClientBundleInfo extends BundleLicenses {
  readonly clientVersion: string;
  readonly zeromqVersion: string;
  /** Node arch (`x64`, `arm64`) → zeromq manifest key and addon path relative to the bundle. */
  readonly addons: Readonly<
    Record<string, { readonly manifestKey: string; readonly path: string }>
  >;
  /** Node arch → what its addon needs of glibc and libstdc++. */
  readonly needs: Readonly<Record<string, LibcNeeds>>;
  /** Gzipped man pages (`man/osad2-client.8.gz`), relative to the bundle. */
  readonly manPages: readonly string[];
  /** bash completion scripts (`completions/osad2-client`), relative to the bundle. */
  readonly completions: readonly string[];
  /** %doc files (`doc/README.md`), relative to the bundle. */
  readonly docs: readonly string[];
}

const INFO_FILE = "osad2-bundle.json";
const ZEROMQ_MANIFEST = "node_modules/zeromq/build/manifest.json";
/** Bundle entries that go elsewhere than /usr/lib/osad2-client (/usr/share/licenses, man, bash-completion, doc). */
const NOT_IN_LIB = ["licenses", "man", "completions", "doc"];

/** dist/client-bundle seen from the built dist/*.js and from src/*.ts (tests run the sources). */
function defaultCandidates(): string[] {
  return [
    fileURLToPath(new URL("./client-bundle/", import.meta.url)),
    fileURLToPath(new URL("../dist/client-bundle/", import.meta.url)),
  ];
}

/** Finds and reads the client bundle; `dir` overrides the search. */
export async function loadClientBundle(
  dir?: string,
): Promise<{ dir: string; info: ClientBundleInfo }> {
  const candidates = dir === undefined ? defaultCandidates() : [dir];
  for (const candidate of candidates) {
    const infoPath = join(candidate, INFO_FILE);
    let text: string;
    try {
      text = await readFile(infoPath, "utf8");
    } catch {
      continue;
    }
    try {
      return { dir: candidate, info: JSON.parse(text) as ClientBundleInfo };
    } catch (error) {
      throw new ClientBundleError(candidate, `has an unreadable ${INFO_FILE}`, { cause: error });
    }
  }
  throw new ClientBundleError(candidates[0] ?? "client-bundle", `is missing (no ${INFO_FILE})`);
}

/**
 * Copies the bundle to `dest` with only the zeromq addon for `nodeArch` (and a manifest naming only it),
 * so an x86_64 RPM carries no aarch64 binary.
 */
export async function stageClientBundle(
  bundle: { dir: string; info: ClientBundleInfo },
  nodeArch: string,
  dest: string,
): Promise<void> {
  const addon = bundle.info.addons[nodeArch];
  if (addon === undefined)
    throw new ClientBundleError(bundle.dir, `has no zeromq addon for ${nodeArch}`);
  try {
    await stat(join(bundle.dir, addon.path));
  } catch (error) {
    throw new ClientBundleError(bundle.dir, `lacks ${addon.path}`, { cause: error });
  }
  // Skip each other architecture's whole directory (build/linux/<arch>), not only its addon file,
  // or empty directories would end up in the package.
  const otherArchDirs = Object.entries(bundle.info.addons)
    .filter(([arch]) => arch !== nodeArch)
    .map(([arch, other]) => other.path.slice(0, other.path.indexOf(`/${arch}/`) + arch.length + 1));
  try {
    await cp(bundle.dir, dest, {
      recursive: true,
      filter: (source) => {
        const rel = relative(bundle.dir, source).split(sep).join("/");
        return (
          rel !== INFO_FILE &&
          rel !== ZEROMQ_MANIFEST &&
          !NOT_IN_LIB.some((top) => rel === top || rel.startsWith(`${top}/`)) &&
          !otherArchDirs.some((skip) => rel === skip || rel.startsWith(`${skip}/`))
        );
      },
    });
    await writeFile(
      join(dest, ZEROMQ_MANIFEST),
      JSON.stringify({ [addon.manifestKey]: manifestPath(addon.path) }),
    );
  } catch (error) {
    throw new ClientBundleError(bundle.dir, `could not be copied: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}

/** Manifest entries are relative to zeromq's build/ directory. */
function manifestPath(bundlePath: string): string {
  return bundlePath.replace(/^node_modules\/zeromq\/build\//, "");
}
