import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";

/** How {@link writeFileAtomic} and {@link copyFileAtomic} put the file in place. */
export interface AtomicWriteOptions {
  /** Permission bits, applied with fchmod so the umask cannot widen or narrow them. */
  readonly mode: number;
  /** When false, an existing target is left alone and EEXIST is thrown. Default true. */
  readonly overwrite?: boolean;
}

/**
 * A name beside `path` that no other writer picks: `.<name>.<random>.tmp`. The leading dot
 * and `.tmp` suffix let directory watchers (the key store) skip it.
 */
export function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * Writes `data` to a temporary file beside `path` with the final mode already set, fsyncs it
 * and renames it into place (or hard-links it when not overwriting, which fails with EEXIST
 * instead of replacing a file another process made), so a reader never sees a half-written
 * file or a secret with loose permissions, even for a moment.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  await publish(path, options, async (handle) => {
    await handle.writeFile(data);
  });
}

/** {@link writeFileAtomic} with the content of the file `source` (e.g. a built RPM). */
export async function copyFileAtomic(
  source: string,
  path: string,
  options: AtomicWriteOptions,
): Promise<void> {
  await publish(path, options, async (handle) => {
    const input = await fs.open(source, constants.O_RDONLY);
    try {
      for await (const chunk of input.createReadStream({ autoClose: false })) {
        await handle.write(chunk as Buffer);
      }
    } finally {
      await input.close();
    }
  });
}

async function publish(
  path: string,
  options: AtomicWriteOptions,
  fill: (handle: fs.FileHandle) => Promise<void>,
): Promise<void> {
  const dir = dirname(path);
  const tmp = temporarySibling(path);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      options.mode,
    );
    await handle.chmod(options.mode);
    await fill(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (options.overwrite === false) {
      await fs.link(tmp, path);
      await fs.unlink(tmp);
    } else {
      await fs.rename(tmp, path);
    }
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes a rename durable; best effort, because not every file system allows it. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories: nothing more to do.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
