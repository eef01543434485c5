// The one way this harness changes the machine's network: iproute2's `ip`, run as a child
// process. Every call names a namespace the harness created (see network.ts).
import { execFile, execFileSync } from "node:child_process";

/** An `ip` command that failed: the arguments and what `ip` said, for the test's message. */
export class IpCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`ip ${args.join(" ")} failed: ${stderr.trim() || "no output"}`, options);
    this.name = "IpCommandError";
  }
}

/** Runs `ip ARGS…` and resolves with its stdout; rejects with {@link IpCommandError}. */
export function ip(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("ip", args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new IpCommandError(args, stderr || error.message, { cause: error }));
      else resolve(stdout);
    });
  });
}

/** The same, synchronously: for the probe and for clean-up in a process "exit" handler. */
export function ipSync(args: readonly string[]): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    throw new IpCommandError(args, stderr || (error as Error).message, { cause: error });
  }
}

/** Names of the machine's network namespaces (`ip netns list`, first word of each line). */
export function namespaceNames(): string[] {
  return ipSync(["netns", "list"])
    .split("\n")
    .map((line) => line.split(/\s/)[0] ?? "")
    .filter(Boolean);
}

/** Pids of the processes living in a namespace (`ip netns pids`). */
export function namespacePids(namespace: string): number[] {
  try {
    return ipSync(["netns", "pids", namespace]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // gone already
  }
}
