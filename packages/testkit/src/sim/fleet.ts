import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { SimProcessError, SimSpecError } from "./errors.js";
import { parseSimEvent, type SimCounts, type SimEvent } from "./events.js";
import type { SimIdentity, SimSpec } from "./spec.js";

/** Options of {@link SimFleet.start}. */
export interface SimFleetOptions extends Omit<SimSpec, "clients"> {
  readonly clients: readonly SimIdentity[];
  /** Directory for the spec files (one per process). */
  readonly dir: string;
  /** Clients started per second over the whole fleet (split among the processes); 0 = all at once. */
  readonly connectRate?: number;
  /** Clients per `osad2-sim-clients` process. Default {@link DEFAULT_CLIENTS_PER_PROCESS}. */
  readonly clientsPerProcess?: number;
  /** Path of the built `sim-clients.js`. Default: the one next to this package's dist. */
  readonly binPath?: string;
  /** Copy the processes' stderr to ours. Default false. */
  readonly echo?: boolean;
  /** Milliseconds to wait for every process's `started`. Default 120,000 (+ 1.5 × the paced start). */
  readonly startTimeoutMs?: number;
}

/** 2,500 clients × 6 sockets stay far below libzmq's socket limit and one process's event loop. */
export const DEFAULT_CLIENTS_PER_PROCESS = 2500;

/** The built bin of this package (dist/sim-clients.js), found from wherever this module runs. */
export function simClientsBinPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, "package.json"))) return path.join(dir, "dist", "sim-clients.js");
    dir = path.dirname(dir);
  }
  throw new Error("cannot find the @osad2/testkit package root; pass binPath");
}

interface Child {
  readonly process: ChildProcess;
  readonly stderr: string[];
  exit: number | string | undefined;
  counts: SimCounts | undefined;
}

/**
 * Simulated clients spread over several `osad2-sim-clients` child processes (ZeroMQ
 * contexts, file descriptors and event loops split up), seen as one stream of events.
 */
export class SimFleet {
  private readonly listeners = new Set<(event: SimEvent) => void>();
  private readonly children: Child[] = [];
  private stopping = false;
  /** Set when a child process died while the fleet was running. */
  failure: SimProcessError | undefined;

  private constructor() {}

  /** Spawns the processes and resolves once every one has started all its clients. */
  static async start(
    options: SimFleetOptions,
    onEvent?: (event: SimEvent) => void,
  ): Promise<SimFleet> {
    const per = options.clientsPerProcess ?? DEFAULT_CLIENTS_PER_PROCESS;
    if (!Number.isInteger(per) || per < 1) {
      throw new SimSpecError("clientsPerProcess", "must be a whole number >= 1");
    }
    const fleet = new SimFleet();
    if (onEvent) fleet.listeners.add(onEvent);
    const bin = options.binPath ?? simClientsBinPath();
    const {
      dir,
      clientsPerProcess: _p,
      binPath: _b,
      echo,
      startTimeoutMs,
      clients,
      connectRate,
      ...base
    } = options;
    const processes = Math.ceil(clients.length / per);
    await fs.mkdir(dir, { recursive: true });
    const started: Promise<void>[] = [];
    for (let offset = 0, i = 0; offset < clients.length; offset += per, i++) {
      const spec: SimSpec = {
        ...base,
        clients: clients.slice(offset, offset + per),
        ...(connectRate ? { connectRate: connectRate / processes } : {}),
      };
      const file = path.join(dir, `sim-${i}.json`);
      await fs.writeFile(file, JSON.stringify(spec), { mode: 0o600 });
      started.push(fleet.spawn(bin, file, echo ?? false));
    }
    // A paced start lasts clients/connectRate seconds by design.
    const paced = connectRate ? (clients.length / connectRate) * 1000 * 1.5 : 0;
    const timeout = startTimeoutMs ?? 120_000 + paced;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all(started),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`simulated clients did not start within ${timeout} ms`)),
            timeout,
          );
        }),
      ]);
    } catch (error) {
      await fleet.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return fleet;
  }

  get pids(): number[] {
    return this.children.map((c) => c.process.pid ?? -1);
  }

  /** Adds a listener for every event of every process; returns its remover. */
  on(listener: (event: SimEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops every process (SIGTERM, then SIGKILL after 10 s) and returns the summed counters. */
  async stop(): Promise<SimCounts> {
    this.stopping = true;
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exit !== undefined) return;
        const gone = new Promise<void>((resolve) => child.process.once("close", () => resolve()));
        child.process.kill("SIGTERM");
        const timer = setTimeout(() => child.process.kill("SIGKILL"), 10_000);
        await gone;
        clearTimeout(timer);
      }),
    );
    const total = { pings: 0, checkins: 0, runs: 0, hellos: 0, disconnects: 0, errors: 0 };
    for (const child of this.children) {
      for (const key of Object.keys(total) as (keyof SimCounts)[])
        total[key] += child.counts?.[key] ?? 0;
    }
    return total;
  }

  private spawn(bin: string, specFile: string, echo: boolean): Promise<void> {
    const proc = spawn(process.execPath, [bin, specFile], { stdio: ["pipe", "pipe", "pipe"] });
    const child: Child = { process: proc, stderr: [], exit: undefined, counts: undefined };
    this.children.push(child);
    const pid = proc.pid ?? -1;
    readline.createInterface({ input: proc.stderr! }).on("line", (line) => {
      child.stderr.push(line);
      if (child.stderr.length > 50) child.stderr.shift();
      if (echo) process.stderr.write(`[sim ${pid}] ${line}\n`);
    });
    return new Promise((resolve, reject) => {
      readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
        const event = parseSimEvent(line);
        if (!event) return;
        if (event.type === "started") resolve();
        if (event.type === "stopped") child.counts = event.counts;
        for (const listener of this.listeners) listener(event);
      });
      proc.on("exit", (code, signal) => {
        child.exit = code ?? signal ?? "unknown";
        const error = new SimProcessError(
          pid,
          `exited (${child.exit}); last stderr:\n  ${child.stderr.slice(-10).join("\n  ")}`,
        );
        if (!this.stopping) this.failure ??= error;
        reject(error);
      });
      proc.on("error", (error) =>
        reject(new SimProcessError(pid, error.message, { cause: error })),
      );
    });
  }
}
