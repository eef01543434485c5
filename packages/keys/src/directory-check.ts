import { promises as fs } from "node:fs";
import { KeyDirectoryPermissionError } from "./errors.js";
import { fileError } from "./fs-util.js";

/** Write bits for group and others. */
const GROUP_OTHER_WRITE = 0o022;

/**
 * Refuses a key directory its group or others may write (a sticky bit does not help: anyone
 * may still add a file). Called when a store or a client opens its keys.
 * @param what what the directory holds, for the message.
 * @throws {KeyDirectoryPermissionError} naming the `chmod go-w` that fixes it;
 *   {@link KeyFileError} when it cannot be inspected.
 */
export async function assertKeyDirectory(path: string, what: string): Promise<void> {
  const stat = await fs.stat(path).catch((error: unknown) => {
    throw fileError(path, "inspect directory", error);
  });
  const mode = stat.mode & 0o7777;
  if ((mode & GROUP_OTHER_WRITE) !== 0) throw new KeyDirectoryPermissionError(path, mode, what);
}
