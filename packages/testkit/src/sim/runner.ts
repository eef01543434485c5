import { spawn } from "node:child_process";

/** Result of one run of the rhn_check stand-in. */
export interface RunResult {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly exitCode: number | null;
}

/**
 * rhn_check the way the real client runs it: never two at once per client; a checkin that
 * arrives during a run causes exactly one more run afterwards (not one per checkin).
 * With an empty command nothing is spawned and the run is recorded at once.
 */
export class SingleFlightRunner {
  private running = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly command: readonly string[],
    private readonly arg: string,
    private readonly onRun: (result: RunResult) => void,
    private readonly onError: (message: string) => void,
  ) {}

  /** Asks for a run; returns at once. */
  request(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop();
  }

  close(): void {
    this.closed = true;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      this.onRun(await this.runOnce());
    } while (this.again && !this.closed);
    this.running = false;
  }

  private runOnce(): Promise<RunResult> {
    const startedAt = Date.now();
    const [program, ...args] = this.command;
    if (program === undefined)
      return Promise.resolve({ startedAt, endedAt: startedAt, exitCode: 0 });
    return new Promise((resolve) => {
      const child = spawn(program, [...args, this.arg], { stdio: "ignore" });
      child.on("error", (error) => {
        this.onError(`cannot run ${program}: ${error.message}`);
        resolve({ startedAt, endedAt: Date.now(), exitCode: null });
      });
      child.on("exit", (code) => resolve({ startedAt, endedAt: Date.now(), exitCode: code }));
    });
  }
}
