import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The shell script that stands in for rhn_check. */
export const FAKE_RHN_CHECK = fileURLToPath(
  new URL("./fixtures/fake-rhn-check.sh", import.meta.url),
);

const dirs: string[] = [];

/** A fresh temp dir, removed by {@link cleanupTempDirs}. */
export async function tempDir(prefix = "osad2-client-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
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

/** Resolves when check() is true, re-checking on every emitted event of `on`; rejects after ms. */
export function waitUntil(
  check: () => boolean,
  ms: number,
  what: string,
  poll = 25,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (check()) return resolve();
      if (Date.now() - started > ms)
        return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, poll);
    };
    tick();
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
