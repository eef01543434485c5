// The built osad2-client CLI as a real child process, with its output lines, for CLI tests.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export interface Running {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the `count`-th line (default 1st) matching pattern, stdout or stderr. */
  waitForLine(pattern: RegExp, ms?: number, count?: number): Promise<string>;
  readonly exited: Promise<number | null>;
}

const running: Running[] = [];

/** Throws when the CLI has not been built (the tests run dist/cli.js). */
export function assertBuilt(): void {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: build first (npx nx build @osad2/client)`);
}

export function cli(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<() => void> = [];
  const feed = (into: string[]) => {
    let rest = "";
    return (chunk: Buffer): void => {
      const parts = (rest + chunk.toString("utf8")).split("\n");
      rest = parts.pop() ?? "";
      into.push(...parts);
      for (const w of waiters.splice(0)) w();
    };
  };
  child.stdout.on("data", feed(lines));
  child.stderr.on("data", feed(stderr));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const r: Running = {
    child,
    lines,
    stderr,
    exited,
    waitForLine: (pattern, ms = 15_000, count = 1) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line matching ${pattern} within ${ms} ms; got:\n${lines.slice(-10).join("\n")}\n${stderr.join("\n")}`,
              ),
            ),
          ms,
        );
        const check = (): void => {
          const found = [...lines, ...stderr].filter((l) => pattern.test(l))[count - 1];
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else waiters.push(check);
        };
        check();
      }),
  };
  running.push(r);
  return r;
}

export async function finished(
  r: Running,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const code = await r.exited;
  await new Promise((res) => setImmediate(res));
  return { code, stdout: r.lines.join("\n"), stderr: r.stderr.join("\n") };
}

/** SIGKILLs every CLI process still running (afterEach). */
export async function killClis(): Promise<void> {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill("SIGKILL");
      await r.exited;
    }
  }
}
