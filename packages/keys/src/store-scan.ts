/**
 * One pass over a key directory: which `*.key` files are there and what public key each
 * holds. Files are re-read only when their stat signature changes, so polling ten thousand
 * keys costs ten thousand stat calls, not ten thousand parses.
 */
import { promises as fs, type Stats } from "node:fs";
import { join, sep } from "node:path";
import { readCertificate, PUBLIC_CERT_SUFFIX } from "./certificate-file.js";
import { KeyError } from "./errors.js";
import { errorCode, fileError } from "./fs-util.js";

/** One readable certificate found by a scan. */
export interface ScannedFile {
  readonly fileName: string;
  readonly path: string;
  readonly publicKey: string;
}

/** Result of scanning a directory. */
export interface ScanResult {
  readonly files: ScannedFile[];
  readonly problems: KeyError[];
  /** Inode of the directory (to notice it was replaced), undefined when missing. */
  readonly dirIno: number | undefined;
}

interface CacheEntry {
  readonly signature: string;
  readonly outcome: { publicKey: string } | { error: KeyError };
}

/** Remembers what each file held at a given stat signature. */
export class FileCache {
  private readonly entries = new Map<string, CacheEntry>();

  /** The file's public key, read only when its stat signature changed. */
  async read(path: string, stat: Stats): Promise<{ publicKey: string } | { error: KeyError }> {
    const signature = `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.mode}`;
    const cached = this.entries.get(path);
    if (cached?.signature === signature) return cached.outcome;
    let outcome: CacheEntry["outcome"];
    try {
      outcome = { publicKey: (await readCertificate(path)).publicKey };
    } catch (error) {
      outcome = { error: error instanceof KeyError ? error : fileError(path, "read", error) };
    }
    this.entries.set(path, { signature, outcome });
    return outcome;
  }

  /** Records a file we wrote ourselves, so the next scan does not read it again. */
  async remember(path: string, publicKey: string): Promise<void> {
    try {
      const stat = await fs.stat(path);
      const signature = `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.mode}`;
      this.entries.set(path, { signature, outcome: { publicKey } });
    } catch {
      this.entries.delete(path);
    }
  }

  forget(path: string): void {
    this.entries.delete(path);
  }

  /** Drops entries of files no longer present. */
  retainOnly(paths: ReadonlySet<string>, prefix: string): void {
    for (const path of this.entries.keys()) {
      if (path.startsWith(prefix) && !paths.has(path)) this.entries.delete(path);
    }
  }
}

/**
 * Lists `dir/*.key` (hidden files and other suffixes are ignored; `accept` filters base names)
 * and reads each through the cache. A missing directory is a problem, not an exception.
 */
export async function scanDirectory(
  dir: string,
  cache: FileCache,
  accept: (baseName: string) => boolean,
): Promise<ScanResult> {
  const problems: KeyError[] = [];
  let dirIno: number | undefined;
  let names: string[];
  try {
    dirIno = (await fs.stat(dir)).ino;
    names = await fs.readdir(dir);
  } catch (error) {
    problems.push(fileError(dir, "list key directory", error));
    cache.retainOnly(new Set(), dir + sep);
    return { files: [], problems, dirIno };
  }
  names.sort();
  const files: ScannedFile[] = [];
  const seen = new Set<string>();
  for (const fileName of names) {
    if (fileName.startsWith(".") || !fileName.endsWith(PUBLIC_CERT_SUFFIX)) continue;
    const base = fileName.slice(0, -PUBLIC_CERT_SUFFIX.length);
    const path = join(dir, fileName);
    if (!accept(base)) {
      problems.push(
        new KeyError(`${path}: ignored, "${base}" is not a valid key name ([A-Za-z0-9._-]{1,64})`),
      );
      continue;
    }
    let stat: Stats;
    try {
      stat = await fs.stat(path);
    } catch (error) {
      // Gone between readdir and stat: a concurrent mv or rm, the next scan settles it.
      if (errorCode(error) !== "ENOENT") problems.push(fileError(path, "inspect", error));
      continue;
    }
    if (!stat.isFile()) continue;
    seen.add(path);
    const outcome = await cache.read(path, stat);
    if ("error" in outcome) problems.push(outcome.error);
    else files.push({ fileName, path, publicKey: outcome.publicKey });
  }
  cache.retainOnly(seen, dir + sep);
  return { files, problems, dirIno };
}
