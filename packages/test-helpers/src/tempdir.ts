import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A temporary directory that a test owns. */
export interface TempDir {
  readonly path: string;
  /** Deletes the directory and everything below it. */
  remove(): Promise<void>;
}

/** A fresh directory under the OS temp dir; `remove()` deletes it and everything below. */
export async function tempDir(prefix = "osad2-"): Promise<TempDir> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

/**
 * Temp dirs made during a test, removed together afterwards
 * (`const dirs = new TempDirs(); afterEach(() => dirs.removeAll())`).
 */
export class TempDirs {
  private readonly made: TempDir[] = [];

  constructor(private readonly prefix = "osad2-") {}

  /** A fresh directory's path; removed by the next {@link removeAll}. */
  async make(prefix = this.prefix): Promise<string> {
    const dir = await tempDir(prefix);
    this.made.push(dir);
    return dir.path;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.made.splice(0).map((dir) => dir.remove()));
  }
}
