import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";

const require = createRequire(import.meta.url);

/** Path of a workspace package's built CLI, e.g. cliPath("server") → …/packages/server/dist/cli.js. */
export function cliPath(pkg: "server" | "client" | "packager" | "proxy"): string {
  return path.join(path.dirname(require.resolve(`@osad2/${pkg}/package.json`)), "dist", "cli.js");
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every line the process printed so far, stdout and stderr interleaved. */
  readonly lines: string[];
  /** Resolves with the first line (already printed or future) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Lines printed so far that match `pattern`. */
  matching(pattern: RegExp): string[];
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface StartOptions {
  readonly name: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Echo every line to this process's stderr, prefixed with the name (debugging). */
  readonly echo?: boolean;
}

/** Starts a real process and collects its output lines. */
export function startProcess(
  command: string,
  args: readonly string[],
  options: StartOptions,
): ManagedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const onLine = (line: string) => {
    lines.push(line);
    if (options.echo || process.env.OSAD2_E2E_ECHO)
      process.stderr.write(`[${options.name}] ${line}\n`);
    for (const waiter of waiters) {
      if (waiter.pattern.test(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  readline.createInterface({ input: child.stdout! }).on("line", onLine);
  readline.createInterface({ input: child.stderr! }).on("line", onLine);
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });

  const managed: ManagedProcess = {
    name: options.name,
    child,
    pid: child.pid ?? -1,
    lines,
    exited,
    matching: (pattern) => lines.filter((l) => pattern.test(l)),
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve };
        waiters.add(waiter);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const tail = lines.slice(-15).join("\n  ");
          reject(
            new Error(
              `${options.name}: no line matching ${pattern} within ${timeoutMs} ms; last lines:\n  ${tail}`,
            ),
          );
        }, timeoutMs);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          const tail = lines.slice(-15).join("\n  ");
          reject(
            new Error(
              `${options.name} exited (${code}) before printing ${pattern}; last lines:\n  ${tail}`,
            ),
          );
        });
        const original = waiter.resolve;
        waiter.resolve = (line) => {
          clearTimeout(timer);
          original(line);
        };
      });
    },
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return managed;
}

/** Starts a workspace CLI (`node …/dist/cli.js args`). */
export function startCli(
  pkg: "server" | "client" | "packager" | "proxy",
  args: readonly string[],
  options: StartOptions & { readonly binPath?: string },
): ManagedProcess {
  if (options.binPath) return startProcess(options.binPath, args, options);
  return startProcess(process.execPath, [cliPath(pkg), ...args], options);
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${command} ${args.join(" ")} timed out after ${options.timeoutMs} ms\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? "unknown", stdout, stderr });
    });
  });
}
