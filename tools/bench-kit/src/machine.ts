import fs from "node:fs";
import os from "node:os";
import * as zmq from "zeromq";

/** What the figures were measured on. */
export interface MachineInfo {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly libzmq: string;
  readonly kernel: string;
  readonly openFilesLimit: string;
  readonly loadAverage: readonly number[];
}

function nofile(): string {
  try {
    const line = fs
      .readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const [soft, hard] = (line ?? "").replace("Max open files", "").trim().split(/\s+/);
    return `${soft}/${hard}`;
  } catch {
    return "unknown";
  }
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    libzmq: zmq.version,
    kernel: os.release(),
    openFilesLimit: nofile(),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
