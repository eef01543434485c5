import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A fresh directory under the OS temp dir; `remove()` deletes it and everything below. */
export async function tempDir(
  prefix = "osad2-",
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}
