import { spawn } from "node:child_process";
import { ConfigError } from "./errors.js";
import { readPidfile } from "./pidfile.js";

/** Options of {@link detach}. */
export interface DetachOptions {
  /** The program, named in messages: `osad2-server`. */
  readonly program: string;
  /** The pidfile the background process writes (its `pidfile` key); not empty. */
  readonly pidfile: string;
  /** Arguments of the background process after the script: the command line without `-d`. */
  readonly argv: readonly string[];
  /** How long the background process may take to write its pidfile. Default 30 s. */
  readonly timeoutMs?: number;
}

/** What a service's configuration must set before {@link detach} may start it. */
export interface DetachableConfig {
  /** The program, named in the message and in the systemd hint: `osad2-server`. */
  readonly program: string;
  /** The config file the settings come from. */
  readonly configPath: string;
  /** The `pidfile` setting (empty = unset). */
  readonly pidfile: string;
  /** The log file setting: its INI key (`log_file`, `logfile`) and value (empty = unset). */
  readonly logFile: { readonly key: string; readonly value: string };
}

/**
 * Refuses `-d` without a pidfile or a log file: an init script finds the daemon by its pidfile,
 * and a detached process has no terminal to log to.
 * @throws {ConfigError} naming the missing key, the file and the systemd alternative.
 */
export function assertDetachable(config: DetachableConfig): void {
  const missing =
    config.pidfile === "" ? "pidfile" : config.logFile.value === "" ? config.logFile.key : "";
  if (missing === "") return;
  throw new ConfigError(
    `-d (detach) needs ${missing} set in ${config.configPath}: an init script finds the daemon by its pidfile, and a detached ${config.program} has no terminal to log to (under systemd, run it without -d: systemctl start ${config.program})`,
    { path: config.configPath, key: missing },
  );
}

/** Top-level options; anything else first on a command line belongs to the default command. */
const PROGRAM_OPTIONS = new Set(["-h", "--help", "-V", "--version"]);

/**
 * The seed's init scripts call `PROGRAM -c FILE -d`, with no command: a command line that starts
 * with an option (other than --help and --version) is one of `command` (osad2's `run`).
 */
export function withDefaultCommand(argv: readonly string[], command: string): readonly string[] {
  const first = argv[0];
  if (first === undefined || !first.startsWith("-") || PROGRAM_OPTIONS.has(first)) return argv;
  return [command, ...argv];
}

/** The command line {@link detach} gives the background process: the same without `-d`/`--detach`. */
export function withoutDetachFlag(argv: readonly string[], command: string): string[] {
  return withDefaultCommand(argv, command).filter((arg) => arg !== "-d" && arg !== "--detach");
}

/** Set in the background process's environment; {@link detachedReady} answers only then. */
const DETACHED_ENV = "OSAD2_DETACHED";

/**
 * In the background process: tells the waiting {@link detach} that start-up succeeded (call it
 * once the service is up), then lets go of the channel so nothing ties the two processes.
 * Does nothing in a process {@link detach} did not start.
 */
export function detachedReady(): void {
  if (process.env[DETACHED_ENV] !== "1" || process.send === undefined) return;
  process.send("ready", () => process.disconnect());
}

/** Why {@link detach} gave up. */
export type DetachFailure = "exited" | "timeout";

/** The background process did not come up: it exited first, or never wrote its pidfile. */
export class DetachError extends Error {
  override readonly name = "DetachError";
  readonly reason: DetachFailure;
  /** The background process's pid. */
  readonly pid: number | undefined;
  /** Its exit code when it exited (null when a signal ended it). */
  readonly exitCode: number | null | undefined;

  constructor(
    reason: DetachFailure,
    message: string,
    fields: { readonly pid?: number; readonly exitCode?: number | null } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reason = reason;
    this.pid = fields.pid;
    this.exitCode = fields.exitCode;
  }
}

const POLL_MS = 50;

/** Default of {@link DetachOptions.timeoutMs}. */
export const DEFAULT_DETACH_TIMEOUT_MS = 30_000;

/**
 * Starts this program again in the background, as the seed's `-d` did for SysV init scripts:
 * a new session (no controlling terminal), standard streams on /dev/null, the same node and
 * script with `argv`. Resolves with its pid once it is up — it called {@link detachedReady} and
 * its pidfile names it — so an init script that reads the pidfile next finds a running daemon;
 * the caller then exits 0.
 * @throws {DetachError} when the process exits first (a bad port, an unreachable database), or
 *   is not up within `timeoutMs` (then it is stopped).
 */
export async function detach(options: DetachOptions): Promise<number> {
  const script = process.argv[1] ?? "";
  const child = spawn(process.execPath, [...process.execArgv, script, ...options.argv], {
    detached: true,
    // The channel carries only detachedReady()'s message; the process closes it after.
    stdio: ["ignore", "ignore", "ignore", "ipc"],
    env: { ...process.env, [DETACHED_ENV]: "1" },
  });
  const pid = child.pid;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let ready = false;
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  child.once("exit", (code, signal) => {
    exited = { code, signal };
  });
  child.on("message", (message) => {
    if (message === "ready") ready = true;
  });
  if (pid === undefined) throw await spawnError;
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_DETACH_TIMEOUT_MS);
  for (;;) {
    if (ready && exited === undefined && (await readPidfile(options.pidfile)) === pid) break;
    if (exited !== undefined) {
      throw new DetachError(
        "exited",
        `${options.program} (pid ${pid}) exited with ${exited.code === null ? `signal ${exited.signal ?? "?"}` : `code ${exited.code}`} while starting: its log file says why`,
        { pid, exitCode: exited.code },
      );
    }
    if (Date.now() > deadline) {
      // Not left behind half-started: the init script reports a failure, so nothing runs.
      child.kill("SIGTERM");
      throw new DetachError(
        "timeout",
        `${options.program} (pid ${pid}) was not up with ${options.pidfile} written within ${(options.timeoutMs ?? DEFAULT_DETACH_TIMEOUT_MS) / 1000} s, so it was stopped: its log file says why`,
        { pid },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  child.disconnect();
  child.unref();
  return pid;
}
