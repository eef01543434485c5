import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { describeSystemError } from "@osad2/service-kit";
import { ClientBundleError, ServerBundleError } from "./errors.js";
import { docDir, licenseDir, type BundleLicenses } from "./spec-common.js";

/** What a bundle carries for /usr/share: licence texts, gzipped man pages, %doc files. */
export interface BundleDocumentation extends BundleLicenses {
  readonly manPages: readonly string[];
  /** bash completion scripts (`completions/osad2-client`), named as the command they complete. */
  readonly completions: readonly string[];
  readonly docs: readonly string[];
}

/** Which bundle a problem is in. */
export type BundleKind = "client" | "server";

function bundleError(kind: BundleKind, path: string, detail: string, cause?: unknown): Error {
  const options = cause === undefined ? undefined : { cause };
  return kind === "client"
    ? new ClientBundleError(path, detail, options)
    : new ServerBundleError(path, detail, options);
}

/** `man/osad2-client.8.gz` → `/usr/share/man/man8/osad2-client.8.gz`; undefined when not one. */
export function manPath(bundlePath: string): string | undefined {
  const name = basename(bundlePath);
  const section = /\.(\d)\.gz$/.exec(name)?.[1];
  return section === undefined ? undefined : `/usr/share/man/man${section}/${name}`;
}

/** `completions/osad2-client` → bash-completion's `/usr/share/bash-completion/completions/osad2-client`. */
export function completionPath(bundlePath: string): string {
  return `/usr/share/bash-completion/completions/${basename(bundlePath)}`;
}

/**
 * Copies a bundle's licence texts to /usr/share/licenses/<rpm>/ (the project's LICENSE at the top,
 * each bundled component's under its own directory), its man pages and its %doc files below `root`;
 * returns the `%files` lines for them.
 */
export async function stageDocumentation(
  bundleDir: string,
  info: BundleDocumentation,
  root: string,
  rpmName: string,
  kind: BundleKind,
): Promise<string> {
  const pages = info.manPages.map((page) => {
    const to = manPath(page);
    if (to === undefined)
      throw bundleError(kind, bundleDir, `lists ${page}, not a gzipped man page`);
    return [page, to] as [string, string];
  });
  const licenses = licenseDir(rpmName);
  const copies: Array<[string, string]> = [[info.projectLicense, `${licenses}/LICENSE`]];
  for (const item of info.bundled) {
    for (const file of item.licenseFiles) {
      copies.push([file, `${licenses}/${file.replace(/^licenses\//, "")}`]);
    }
  }
  copies.push(...pages);
  const completions = info.completions.map(
    (file) => [file, completionPath(file)] as [string, string],
  );
  copies.push(...completions);
  for (const doc of info.docs) copies.push([doc, `${docDir(rpmName)}/${basename(doc)}`]);
  // Many MIT texts are byte for byte the same: a repeat becomes a relative symlink to the first
  // (a hard link across directories is what rpmlint warns about instead).
  const byContent = new Map<string, string>();
  const written = new Set<string>();
  for (const [from, to] of copies) {
    // A C library's licence may be a file its npm package ships (libzmq's is zeromq's MPL text).
    if (written.has(to)) continue;
    written.add(to);
    try {
      await mkdir(dirname(join(root, to)), { recursive: true });
      const content = await readFile(join(bundleDir, from));
      const digest = createHash("sha256").update(content).digest("hex");
      const same = byContent.get(digest);
      if (same !== undefined) {
        await symlink(relative(dirname(join(root, to)), same), join(root, to));
        continue;
      }
      // 0644 whatever mode the npm package gave it (some ship 0755 licences) and whatever the umask.
      await writeFile(join(root, to), content);
      await chmod(join(root, to), 0o644);
      byContent.set(digest, join(root, to));
    } catch (error) {
      throw bundleError(
        kind,
        bundleDir,
        `cannot copy ${from}: ${describeSystemError(error)}`,
        error,
      );
    }
  }
  return [
    `%license ${licenses}`,
    ...pages.map(([, to]) => `%attr(0644,root,root) ${to}`),
    ...completions.map(([, to]) => `%attr(0644,root,root) ${to}`),
    ...(info.docs.length > 0 ? [`%doc ${docDir(rpmName)}`] : []),
  ]
    .map((line) => `${line}\n`)
    .join("");
}
