import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { PidfileError, describeError, errnoCode } from "./errors.js";

/** True when a process with this pid exists (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

/**
 * Writes this process's pid to `path`, refusing when another live process holds it (a stale
 * file from a crash is replaced). Returns a function that removes the file if it is still ours.
 */
export async function acquirePidfile(path: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: "wx", mode: 0o644 });
      return async () => {
        try {
          if ((await readFile(path, "utf8")).trim() === String(process.pid)) await unlink(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") {
        throw new PidfileError(
          path,
          `cannot write pidfile ${path} (${errnoCode(error) ?? describeError(error)}): run as root or set pidfile`,
          undefined,
          { cause: error },
        );
      }
    }
    const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (processAlive(pid) && pid !== process.pid) {
      throw new PidfileError(
        path,
        `osad2-client is already running (pid ${pid}, pidfile ${path}): stop it first (systemctl stop osad2-client)`,
        pid,
      );
    }
    await unlink(path).catch(() => undefined); // stale: left by a process that died
  }
  throw new PidfileError(
    path,
    `pidfile ${path} keeps reappearing: another osad2-client is starting`,
  );
}
