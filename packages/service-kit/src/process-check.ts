import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { errnoCode } from "./errno.js";

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

/** Whether one command-line word names the program: its file name, or one of the marker paths. */
function namesProgram(arg: string, program: string, markers: readonly string[]): boolean {
  if (basename(arg) === program) return true;
  // A relative script path as typed (`dist/cli.js`) names the same file as an absolute marker.
  return markers.some(
    (marker) =>
      arg === marker || (!arg.startsWith("/") && marker.endsWith(`/${arg.replace(/^\.\//, "")}`)),
  );
}

/**
 * Whether the live process `pid` runs `program`: its executable or script (the first two
 * words of /proc/<pid>/cmdline, e.g. `node /usr/bin/osad2-client`) has that file name or is
 * one of `markers` (script paths, e.g. this process's own). Where /proc cannot tell (not
 * Linux, hidepid) the answer is true: better to refuse a start than to run twice.
 */
export async function runsProgram(
  pid: number,
  program: string,
  markers: readonly string[] = [],
): Promise<boolean> {
  let cmdline: string;
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
  } catch (error) {
    return !(errnoCode(error) === "ENOENT" && existsSync("/proc/self/cmdline"));
  }
  const words = cmdline
    .split("\0")
    .filter((word) => word !== "")
    .slice(0, 2);
  return words.some((word) => namesProgram(word, program, markers));
}
