import { TempDirs } from "@osad2/test-helpers";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The shell script that stands in for rhn_check. */
export const FAKE_RHN_CHECK = fileURLToPath(
  new URL("./fixtures/fake-rhn-check.sh", import.meta.url),
);

const dirs = new TempDirs("osad2-client-");

/** A fresh temp dir, removed by {@link cleanupTempDirs}. */
export function tempDir(prefix = "osad2-client-"): Promise<string> {
  return dirs.make(prefix);
}

/** Removes every dir {@link tempDir} made (afterEach). */
export function cleanupTempDirs(): Promise<void> {
  return dirs.removeAll();
}

/** One line of the fake rhn_check's log. */
export interface RunLogLine {
  readonly kind: "start" | "end";
  readonly atMs: number;
  readonly umask?: string;
  readonly pid?: number;
  readonly args?: string;
}

export async function readRunLog(path: string): Promise<RunLogLine[]> {
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((line) => {
      const [kind, ns, umask, pid, ...args] = line.split(" ");
      const atMs = Number(BigInt(ns as string) / 1_000_000n);
      return kind === "start"
        ? { kind: "start", atMs, umask, pid: Number(pid), args: args.join(" ") }
        : { kind: "end", atMs };
    });
}

/** True when the process is gone (or a zombie nobody reaped yet). */
export async function processGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}
