import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** One reading of a process from /proc. */
export interface ProcSample {
  readonly at: number;
  /** Resident set size (VmRSS), KiB. */
  readonly rssKiB: number;
  /** utime + stime, clock ticks. */
  readonly cpuTicks: number;
  readonly fds: number;
  readonly threads: number;
}

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK), read once (100 on Linux almost everywhere). */
export function clockTicks(): number {
  ticksPerSecond ??=
    Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return ticksPerSecond;
}

/** Reads /proc/<pid>/status and /proc/<pid>/stat. */
export function sampleProcess(pid: number): ProcSample {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  const threads = /^Threads:\s+(\d+)/m.exec(status);
  // Fields after the command name (which may contain spaces), starting at field 3 (state).
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return {
    at: Date.now(),
    rssKiB: rss ? Number(rss[1]) : Number.NaN,
    cpuTicks: utime + stime,
    fds: fs.readdirSync(`/proc/${pid}/fd`).length,
    threads: threads ? Number(threads[1]) : Number.NaN,
  };
}

/** CPU use between two samples, as a percentage of one core. */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const seconds = (to.at - from.at) / 1000;
  if (seconds <= 0) return Number.NaN;
  return Math.round(((to.cpuTicks - from.cpuTicks) / clockTicks() / seconds) * 100 * 100) / 100;
}
