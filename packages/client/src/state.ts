import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  type Logger,
  describeError,
  errnoCode,
  processAlive,
  runsProgram,
  ensureDirectory,
  writeFileAtomic,
} from "@osad2/service-kit";
import { StateFileError } from "./errors.js";
import type { RunRecord, RunTrigger } from "./executor.js";
import type { EndpointSource, ServerEndpoints } from "./registration.js";

/** Overall state of a running client. */
export type ClientState =
  | "starting"
  | "registering"
  | "connecting"
  | "connected"
  | "disconnected"
  | "auth-failure"
  | "stopped";

/** A finished rhn_check run, JSON-ready. */
export interface RunSummary {
  readonly trigger: RunTrigger;
  readonly attempt: 1 | 2;
  /** ISO time the run started. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly error: string | null;
  readonly stderrTail: string;
}

/** What `osad2-client status` prints: the client's state file. All times are ISO strings. */
export interface ClientStatus {
  readonly state: ClientState;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly registration: {
    readonly clientName: string;
    readonly serverUrl: string;
    readonly registeredAt: string;
    readonly publisherEndpoint: string;
    readonly listenerEndpoint: string;
    /** Every server connected to (failover: more than one), the first as above. */
    readonly servers: readonly ServerEndpoints[];
    /** What decided them: `server_host`, the reply, its jabber-server, or server_url's host. */
    readonly source: EndpointSource;
    /** Where the server key came from: the server_public_key file or the reply. */
    readonly serverKeySource: "file" | "reply";
  } | null;
  readonly lastRegistrationError: { readonly at: string; readonly message: string } | null;
  readonly connection: {
    readonly connected: boolean;
    /** When `connected` last changed. */
    readonly since: string | null;
    readonly lastPingAt: string | null;
    readonly authFailures: number;
    readonly lastAuthFailure: { readonly at: string; readonly message: string } | null;
  };
  /** True while rhn_check runs. */
  readonly running: boolean;
  readonly lastRun: RunSummary | null;
}

export function summarizeRun(run: RunRecord): RunSummary {
  return {
    trigger: run.trigger,
    attempt: run.attempt,
    startedAt: new Date(run.startedAt).toISOString(),
    durationMs: run.durationMs,
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    error: run.error,
    stderrTail: run.stderrTail,
  };
}

/**
 * Writes the state file atomically (temp file + rename), one write at a time; a write asked
 * for while one is in progress is folded into the next.
 */
export class StateWriter {
  private writing: Promise<void> | undefined;
  private next: ClientStatus | undefined;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  write(status: ClientStatus): void {
    this.next = status;
    this.writing ??= this.drain();
  }

  /** Resolves when everything asked for has been written. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next !== undefined) {
        const status = this.next;
        this.next = undefined;
        try {
          await writeStateFile(this.path, status);
        } catch (error) {
          this.log.warn(
            { path: this.path, error: describeError(error) },
            "cannot write the state file",
          );
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}

/** Mode of the state file: root writes it, the service's group may run `osad2-client status`. */
export const STATE_FILE_MODE = 0o640;
/** Mode of a state directory the client creates (an existing one keeps its mode). */
export const STATE_DIR_MODE = 0o750;

/** Writes the state file in one step (temp file, fsync, rename), mode {@link STATE_FILE_MODE}. */
export async function writeStateFile(path: string, status: ClientStatus): Promise<void> {
  await ensureDirectory(dirname(path), STATE_DIR_MODE);
  await writeFileAtomic(path, `${JSON.stringify(status, null, 2)}\n`, { mode: STATE_FILE_MODE });
}

/** Reads the state file `osad2-client run` keeps. @throws {StateFileError} with the fix. */
export async function readStateFile(path: string): Promise<ClientStatus> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const missing = errnoCode(error) === "ENOENT";
    throw new StateFileError(
      path,
      missing ? "missing" : "unreadable",
      missing
        ? `no state file at ${path}: osad2-client run has not run with this state_file (start the service, or pass the same --config/--state-file)`
        : `cannot read state file ${path} (${errnoCode(error) ?? describeError(error)}): run as root`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text) as ClientStatus;
  } catch (error) {
    throw new StateFileError(
      path,
      "invalid",
      `state file ${path} is not JSON: delete it, the service rewrites it`,
      { cause: error },
    );
  }
}

/**
 * Whether the service a state file names still runs: the pid is alive and is osad2-client
 * (not another process that got the pid after a crash).
 */
export async function serviceAlive(status: ClientStatus): Promise<boolean> {
  return (
    status.state !== "stopped" &&
    processAlive(status.pid) &&
    (await runsProgram(
      status.pid,
      "osad2-client",
      process.argv[1] === undefined ? [] : [process.argv[1]],
    ))
  );
}
