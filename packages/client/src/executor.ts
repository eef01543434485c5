import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { isMainThread } from "node:worker_threads";
import { type Logger, describeError, silentLogger } from "@osad2/service-kit";

/** Default for rhn_check_timeout: a hung rhn_check is killed after 30 minutes. */
export const DEFAULT_RHN_CHECK_TIMEOUT_MS = 1_800_000;
/** Default pause before the one retry of a failed run (the old osad retried after a minute). */
export const DEFAULT_RETRY_DELAY_MS = 60_000;
/** Default time between SIGTERM and SIGKILL to the process group of a timed-out run. */
export const DEFAULT_KILL_GRACE_MS = 10_000;
/** The umask rhn_check runs with, as the old osad set it: files it writes are 0644/0755. */
export const RHN_CHECK_UMASK = 0o022;
/** How much of stderr is kept for the log of a failed run. */
export const STDERR_TAIL_BYTES = 2_048;
// After rhn_check exits, a grandchild it left behind may still hold our pipes open;
// do not let that hold the run's result back for more than this.
const CLOSE_WAIT_MS = 2_000;

/** Why a run happened. */
export type RunTrigger = "checkin" | "start" | "retry" | "manual";

/** The outcome of one rhn_check run (the 'run' event and the state file's last run). */
export interface RunRecord {
  readonly trigger: RunTrigger;
  /** Epoch milliseconds when the process was started. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Exit status, or null when killed by a signal or never started. */
  readonly exitCode: number | null;
  /** The signal that ended it, e.g. "SIGTERM", or null. */
  readonly signal: string | null;
  /** True when rhn_check_timeout expired and the process group was killed. */
  readonly timedOut: boolean;
  /** Why the command could not be started at all (e.g. "spawn /usr/sbin/rhn_check ENOENT"). */
  readonly error: string | null;
  /** Last {@link STDERR_TAIL_BYTES} bytes of its stderr. */
  readonly stderrTail: string;
  /** 1 for a first run, 2 for the retry after a failure. */
  readonly attempt: 1 | 2;
}

export interface ExecutorOptions {
  /** argv of rhn_check_command (already split, no shell). */
  readonly command: readonly string[];
  /** Appends `-vvv` to the command (debug_level > 0). Default false. */
  readonly verbose?: boolean;
  /** Random delay 0..jitterMs before each run. Default 0. */
  readonly jitterMs?: number;
  /** Kill the process group after this long. Default {@link DEFAULT_RHN_CHECK_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Pause before the one retry of a failed run. Default {@link DEFAULT_RETRY_DELAY_MS}. */
  readonly retryDelayMs?: number;
  /** SIGTERM → SIGKILL grace when killing. Default {@link DEFAULT_KILL_GRACE_MS}. */
  readonly killGraceMs?: number;
  /** Environment of the child. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default: a silent logger. */
  readonly logger?: Logger;
  /** Source of randomness for the jitter (tests). Default Math.random. */
  readonly random?: () => number;
}

/** Events of an {@link Executor}. */
export type ExecutorEvents = {
  /** rhn_check was started. */
  start: [
    { readonly trigger: RunTrigger; readonly attempt: 1 | 2; readonly pid: number | undefined },
  ];
  /** rhn_check finished (or could not start); one per start. */
  run: [RunRecord];
};

type Scheduled = { kind: "delay" | "retry"; timer: NodeJS.Timeout; trigger: RunTrigger };

/**
 * Runs rhn_check, one at a time. A request during a run is remembered and causes exactly one
 * follow-up run after it, however many arrive; requests during the random pre-run delay join
 * the coming run. So a burst of N checkins makes at most 2 runs and none is lost.
 */
export class Executor extends EventEmitter<ExecutorEvents> {
  private options: Required<Omit<ExecutorOptions, "env">> & { env: NodeJS.ProcessEnv };
  private scheduled: Scheduled | undefined;
  private child: ChildProcess | undefined;
  private pending: RunTrigger | undefined;
  private finished: Promise<void> | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private last: RunRecord | null = null;

  constructor(options: ExecutorOptions) {
    super();
    this.options = Executor.withDefaults(options);
  }

  private static withDefaults(options: ExecutorOptions): Executor["options"] {
    if (options.command.length === 0 || options.command[0] === "") {
      throw new TypeError("Executor: command must have at least the program name");
    }
    return {
      command: options.command,
      verbose: options.verbose ?? false,
      jitterMs: Math.max(0, options.jitterMs ?? 0),
      timeoutMs: options.timeoutMs ?? DEFAULT_RHN_CHECK_TIMEOUT_MS,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      env: options.env ?? process.env,
      logger: options.logger ?? silentLogger(),
      random: options.random ?? Math.random,
    };
  }

  /** Replaces the options for future runs (SIGHUP); a run in progress is not disturbed. */
  configure(options: ExecutorOptions): void {
    this.options = Executor.withDefaults(options);
  }

  /** True while rhn_check runs. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** True when nothing runs, waits or is queued. */
  get idle(): boolean {
    return this.child === undefined && this.scheduled === undefined && this.pending === undefined;
  }

  /** The last finished run, or null. */
  get lastRun(): RunRecord | null {
    return this.last;
  }

  /**
   * Asks for a run. Returns false once draining. Never throws: a run that cannot start is
   * reported as a failed run.
   */
  request(trigger: RunTrigger): boolean {
    const log = this.options.logger;
    if (this.draining) {
      log.info({ trigger }, "rhn_check request ignored: shutting down");
      return false;
    }
    if (this.child !== undefined) {
      if (this.pending === undefined) {
        log.info({ trigger }, "rhn_check is running; one more run will follow it");
      }
      this.pending = trigger;
      return true;
    }
    if (this.scheduled?.kind === "delay") {
      log.debug({ trigger }, "rhn_check already about to run; request joins it");
      return true;
    }
    if (this.scheduled?.kind === "retry") {
      clearTimeout(this.scheduled.timer);
      this.scheduled = undefined;
      log.info({ trigger }, "new request replaces the pending retry");
    }
    this.schedule(trigger, 1);
    return true;
  }

  /**
   * Stops taking requests, cancels waiting runs and lets a running rhn_check finish for up to
   * graceMs, then kills its process group. Resolves when nothing runs any more.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.pending = undefined;
    if (this.scheduled !== undefined) {
      clearTimeout(this.scheduled.timer);
      this.scheduled = undefined;
    }
    const child = this.child;
    const finished = this.finished;
    if (child === undefined || finished === undefined) return;
    this.options.logger.info({ graceMs }, "waiting for the running rhn_check to finish");
    let graceTimer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      graceTimer = setTimeout(() => resolve(true), graceMs);
    });
    const late = await Promise.race([finished.then(() => false), expired]);
    clearTimeout(graceTimer);
    if (late) {
      this.options.logger.warn(
        { graceMs, pid: child.pid },
        "rhn_check still running after the grace period; killing its process group",
      );
      this.killGroup(child, "SIGTERM");
      this.killTimer = setTimeout(() => this.killGroup(child, "SIGKILL"), this.options.killGraceMs);
      await finished;
    }
  }

  private schedule(trigger: RunTrigger, attempt: 1 | 2, delayMs?: number): void {
    const delay = delayMs ?? Math.round(this.options.random() * this.options.jitterMs);
    if (delay <= 0) {
      this.start(trigger, attempt);
      return;
    }
    const kind = attempt === 2 ? "retry" : "delay";
    this.options.logger.debug(
      { trigger, delayMs: delay },
      kind === "retry" ? "retrying rhn_check later" : "rhn_check after random delay",
    );
    const timer = setTimeout(() => {
      this.scheduled = undefined;
      this.start(trigger, attempt);
    }, delay);
    this.scheduled = { kind, timer, trigger };
  }

  private start(trigger: RunTrigger, attempt: 1 | 2): void {
    const { command, verbose, env, logger, timeoutMs } = this.options;
    const [program, ...args] = command as [string, ...string[]];
    if (verbose) args.push("-vvv");
    const startedAt = Date.now();
    logger.info({ trigger, attempt, command: [program, ...args] }, "running rhn_check");

    let child: ChildProcess;
    try {
      child = spawnWithUmask(program, args, env);
    } catch (error) {
      this.complete(trigger, attempt, startedAt, {
        exitCode: null,
        signal: null,
        timedOut: false,
        error: describeError(error),
        stderrTail: "",
      });
      return;
    }
    this.child = child;
    this.emit("start", { trigger, attempt, pid: child.pid });
    let stderr = "";
    let stdout = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout = (stdout + chunk).slice(-STDERR_TAIL_BYTES);
    });

    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      logger.warn({ pid: child.pid, timeoutMs }, "rhn_check timed out; killing its process group");
      this.killGroup(child, "SIGTERM");
      this.killTimer = setTimeout(() => this.killGroup(child, "SIGKILL"), this.options.killGraceMs);
    }, timeoutMs);

    this.finished = new Promise<void>((resolve) => {
      let done = false;
      let spawnError: string | null = null;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let closeTimer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        clearTimeout(closeTimer);
        clearTimeout(this.killTimer);
        child.stdout?.destroy();
        child.stderr?.destroy();
        if (stdout !== "") logger.debug({ stdoutTail: stdout }, "rhn_check output");
        this.child = undefined;
        this.finished = undefined;
        this.complete(trigger, attempt, startedAt, {
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          timedOut,
          error: spawnError,
          stderrTail: stderr,
        });
        resolve();
      };
      child.once("error", (error) => {
        // Only a failed spawn ends the run here; kill() errors are not fatal.
        if (child.pid === undefined) {
          spawnError = describeError(error);
          finish();
        }
      });
      child.once("exit", (code, signal) => {
        exit = { code, signal };
        // Whatever the timed-out run left in its group goes now, not after the grace period.
        if (timedOut) this.killGroup(child, "SIGKILL");
        closeTimer = setTimeout(finish, CLOSE_WAIT_MS);
      });
      child.once("close", finish);
    });
  }

  private complete(
    trigger: RunTrigger,
    attempt: 1 | 2,
    startedAt: number,
    result: Pick<RunRecord, "exitCode" | "signal" | "timedOut" | "error" | "stderrTail">,
  ): void {
    const record: RunRecord = {
      trigger,
      attempt,
      startedAt,
      durationMs: Date.now() - startedAt,
      ...result,
    };
    this.last = record;
    const log = this.options.logger;
    const summary = {
      trigger,
      attempt,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: record.durationMs,
      exitCode: record.exitCode,
      signal: record.signal,
      timedOut: record.timedOut,
    };
    const failed = !succeeded(record);
    if (!failed) log.info(summary, "rhn_check finished");
    else if (record.error !== null)
      log.error({ ...summary, error: record.error }, "rhn_check could not be started");
    else log.error({ ...summary, stderrTail: record.stderrTail }, "rhn_check failed");
    this.emit("run", record);

    if (this.draining) return;
    if (this.pending !== undefined) {
      const next = this.pending;
      this.pending = undefined;
      this.schedule(next, 1);
    } else if (failed && !record.timedOut && attempt === 1) {
      log.info({ retryDelayMs: this.options.retryDelayMs }, "rhn_check will be retried once");
      this.schedule("retry", 2, Math.max(1, this.options.retryDelayMs));
    }
  }

  private killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
      // detached: the child leads its own process group, so -pid reaches its children too.
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}

/** True for a run that exited with status 0. */
export function succeeded(run: RunRecord): boolean {
  return run.exitCode === 0 && run.error === null && !run.timedOut;
}

/**
 * Spawns in a new process group (so a timeout can kill everything rhn_check started) with
 * umask 022. The umask is per process and inherited at fork, so it is set just around the
 * synchronous spawn; worker threads cannot change it, so there a /bin/sh wrapper sets it
 * and execs the program with the same argv (nothing is interpreted by the shell).
 */
function spawnWithUmask(program: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const stdio: ["ignore", "pipe", "pipe"] = ["ignore", "pipe", "pipe"];
  if (!isMainThread) {
    return spawn("/bin/sh", ["-c", 'umask 022 && exec "$0" "$@"', program, ...args], {
      detached: true,
      stdio,
      env,
    });
  }
  const previous = process.umask(RHN_CHECK_UMASK);
  try {
    return spawn(program, args, { detached: true, stdio, env });
  } finally {
    process.umask(previous);
  }
}
