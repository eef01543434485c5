import { constants, promises as fs } from "node:fs";
import { dirname } from "node:path";
import { describeSystemError, errnoCode } from "./errno.js";
import { PidfileError } from "./errors.js";
import { ensureDirectory } from "./file-modes.js";
import { processAlive, runsProgram } from "./process-check.js";

/** Mode of a pidfile: its owner writes it, the service's group (status tools) may read it. */
export const PIDFILE_MODE = 0o640;
/** Mode of a pidfile directory osad2 creates (an existing one keeps its mode). */
export const PIDFILE_DIR_MODE = 0o750;

/** Options of {@link acquirePidfile} and {@link pidfileProcess}. */
export interface PidfileOptions {
  /**
   * The program's file name, e.g. `osad2-client`: a live pid whose executable or script is
   * not that (nor one of {@link markers}) reused a crashed holder's pid, so its file is stale.
   */
  readonly program: string;
  /** Script paths that also identify the program (how it was started). Default [process.argv[1]]. */
  readonly markers?: readonly string[];
}

/** Who a pidfile names. */
export interface PidfileHolder {
  /** The pid in the file; undefined when there is no file or it holds no pid. */
  readonly pid: number | undefined;
  /** True when that pid is alive and runs the program. */
  readonly running: boolean;
}

/** Releases a pidfile taken by {@link acquirePidfile}: removes it if it still names this process. */
export type ReleasePidfile = () => Promise<void>;

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** The pid in a pidfile, or undefined when there is none (or it is garbage). Never follows a symlink. */
export async function readPidfile(path: string): Promise<number | undefined> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, constants.O_RDONLY | NOFOLLOW);
    const text = await handle.readFile("utf8");
    return /^\d+\s*$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function markersOf(options: PidfileOptions): readonly string[] {
  return options.markers ?? (process.argv[1] === undefined ? [] : [process.argv[1]]);
}

/** Whether the process a pidfile names is alive and really is the program (for status commands). */
export async function pidfileProcess(
  path: string,
  options: PidfileOptions,
): Promise<PidfileHolder> {
  const pid = await readPidfile(path);
  const running =
    pid !== undefined &&
    processAlive(pid) &&
    (await runsProgram(pid, options.program, markersOf(options)));
  return { pid, running };
}

async function refuseSymlink(path: string): Promise<void> {
  const stat = await fs.lstat(path).catch(() => undefined);
  if (stat?.isSymbolicLink() === true) {
    throw new PidfileError(
      path,
      "symlink",
      `pidfile ${path} is a symbolic link: remove it (a pidfile is never followed through a link)`,
    );
  }
}

async function createExclusive(path: string): Promise<void> {
  // O_EXCL with O_CREAT never follows a symlink; O_NOFOLLOW says so twice.
  const handle = await fs.open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
    PIDFILE_MODE,
  );
  try {
    await handle.chmod(PIDFILE_MODE);
    await handle.writeFile(`${process.pid}\n`);
  } catch (error) {
    await fs.rm(path, { force: true });
    throw error;
  } finally {
    await handle.close();
  }
}

function alreadyRunning(path: string, program: string, pid: number): PidfileError {
  return new PidfileError(
    path,
    "running",
    `${program} is already running (pid ${pid}, pidfile ${path}): stop it first`,
    pid,
  );
}

/** A takeover lock older than this was left by a starter that died mid-takeover. */
const STALE_LOCK_MS = 10_000;

/**
 * Writes this process's pid to `path`, created exclusively (never through a symlink).
 * A file naming a live process of the same program is refused; a stale one (dead pid, or a
 * reused pid running something else) is replaced. Replacing happens under `<path>.lock` and
 * the new file is again created exclusively, so of several starters racing for a stale file
 * exactly one wins. Returns the function that removes the file if it still names this process.
 * @throws {PidfileError} `running`, `symlink`, `io` or `contended`.
 */
export async function acquirePidfile(
  path: string,
  options: PidfileOptions,
): Promise<ReleasePidfile> {
  const markers = markersOf(options);
  const isHolder = async (pid: number | undefined): Promise<boolean> =>
    pid !== undefined &&
    pid !== process.pid &&
    processAlive(pid) &&
    (await runsProgram(pid, options.program, markers));
  try {
    await ensureDirectory(dirname(path), PIDFILE_DIR_MODE);
  } catch (error) {
    throw ioError(path, error);
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    await refuseSymlink(path);
    try {
      await createExclusive(path);
      return async () => {
        if ((await readPidfile(path)) === process.pid) await fs.rm(path, { force: true });
      };
    } catch (error) {
      if (errnoCode(error) === "ELOOP") await refuseSymlink(path);
      if (errnoCode(error) !== "EEXIST") throw ioError(path, error);
    }
    const pid = await readPidfile(path);
    if (await isHolder(pid)) throw alreadyRunning(path, options.program, pid ?? 0);
    await removeStale(path, isHolder, options.program);
  }
  throw new PidfileError(
    path,
    "contended",
    `pidfile ${path} keeps reappearing: another ${options.program} is starting`,
  );
}

/**
 * Removes a stale pidfile under the takeover lock. Only a lock holder unlinks, and it reads
 * the file again first, so a fresh file another starter created is never removed.
 */
async function removeStale(
  path: string,
  isHolder: (pid: number | undefined) => Promise<boolean>,
  program: string,
): Promise<void> {
  const lock = `${path}.lock`;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(
      lock,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
      0o600,
    );
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") throw ioError(lock, error);
    const age = await fs.lstat(lock).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) await fs.rm(lock, { force: true });
    // Another starter is replacing the file: look again shortly.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return;
  }
  try {
    const pid = await readPidfile(path);
    if (await isHolder(pid)) throw alreadyRunning(path, program, pid ?? 0);
    await fs.rm(path, { force: true });
  } finally {
    await handle.close();
    await fs.rm(lock, { force: true });
  }
}

function ioError(path: string, error: unknown): PidfileError {
  return new PidfileError(
    path,
    "io",
    `cannot write pidfile ${path}: ${describeSystemError(error)}; run as root or set another pidfile`,
    undefined,
    { cause: error },
  );
}
