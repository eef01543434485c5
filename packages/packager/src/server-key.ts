import { readPublicKey } from "@osad2/keys";
import { stat } from "node:fs/promises";
import { describeSystemError, errnoCode } from "@osad2/service-kit";
import { MissingServerKeyError } from "./errors.js";

/**
 * The server's public key (`public_keys/server.key`), which every client and top-level proxy
 * RPM carries. @throws {MissingServerKeyError} saying to run createserver.
 */
export async function readServerPublicKey(path: string): Promise<string> {
  try {
    await stat(path);
  } catch (error) {
    const code = errnoCode(error);
    const detail =
      code === "ENOENT" || code === "ENOTDIR"
        ? "does not exist"
        : `cannot be read: ${describeSystemError(error)}`;
    throw new MissingServerKeyError(path, detail, { cause: error });
  }
  try {
    return await readPublicKey(path);
  } catch (error) {
    throw new MissingServerKeyError(path, `cannot be read (${(error as Error).message})`, {
      cause: error,
    });
  }
}
