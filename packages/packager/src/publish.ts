import { mkdir, rm } from "node:fs/promises";
import { copyFileAtomic, describeSystemError, errnoCode } from "@osad2/service-kit";
import { OutputDirError } from "./errors.js";

/**
 * Mode of the RPMs that carry a secret key (client and proxy keys): rpm2cpio extracts it, so
 * only the user who built it may read it.
 */
export const SECRET_RPM_FILE_MODE = 0o600;

/** Where a built package goes and what to say when the name is taken. */
export interface PublishTarget {
  readonly out: string;
  readonly force: boolean;
  /** The error for "already there" (the caller's Duplicate…Error). */
  readonly taken: (options: { cause: unknown }) => Error;
}

/**
 * Moves a built RPM holding a secret into the output directory in one step (0600, whatever the
 * umask); returns the directory it had to create, if any, so a caller that must take the RPM
 * back out can remove that too.
 */
export async function publishSecretRpm(
  built: string,
  rpmPath: string,
  target: PublishTarget,
): Promise<string | undefined> {
  let madeDir: string | undefined;
  try {
    madeDir = await mkdir(target.out, { recursive: true });
    await copyFileAtomic(built, rpmPath, { mode: SECRET_RPM_FILE_MODE, overwrite: target.force });
    return madeDir;
  } catch (error) {
    if (madeDir !== undefined) await rm(madeDir, { recursive: true, force: true });
    if (errnoCode(error) === "EEXIST") throw target.taken({ cause: error });
    throw new OutputDirError(target.out, `cannot take ${rpmPath}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}
