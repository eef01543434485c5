import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { PidfileError } from "../errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid in a pidfile, or undefined when there is none (or it is garbage). */
export async function readPidfile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, "utf8")).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process named in the pidfile runs. */
export async function pidfileProcess(
  path: string,
): Promise<{ pid: number | undefined; running: boolean }> {
  const pid = await readPidfile(path);
  return { pid, running: pid !== undefined && alive(pid) };
}

/**
 * Writes this process's pid; refuses when another live process holds the file (a stale file
 * from a crash is replaced). Returns the function that removes it again.
 */
export async function acquirePidfile(path: string): Promise<() => Promise<void>> {
  const { pid, running } = await pidfileProcess(path);
  if (running && pid !== process.pid) {
    throw new PidfileError(path, `osad2-server already runs as pid ${pid}; stop it first`, pid);
  }
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${process.pid}\n`, { mode: 0o644 });
  } catch (cause) {
    throw new PidfileError(
      path,
      `cannot be written (${(cause as NodeJS.ErrnoException).code ?? "error"})`,
      undefined,
      {
        cause,
      },
    );
  }
  return async () => {
    if ((await readPidfile(path)) === process.pid) await rm(path, { force: true });
  };
}
