#!/usr/bin/env node
// osad2-sim-clients SPEC.json — many simulated osad2 clients in this process (see sim/spec.ts
// for the spec). Prints one JSON event per line on stdout, nothing else there. Stops on
// SIGTERM/SIGINT, or when its stdin is a pipe and the other end closes (the parent died).
import fs from "node:fs";
import { SimPool } from "./sim/pool.js";
import { parseSimSpec } from "./sim/spec.js";
import type { SimEvent } from "./sim/events.js";

const USAGE = "usage: osad2-sim-clients SPEC.json   (spec: see @osad2/testkit sim/spec.ts)";

let pending: string[] = [];
let flushScheduled = false;
function emit(event: SimEvent): void {
  // One write per event-loop turn: a burst of 2,500 checkins is one syscall, not 2,500.
  pending.push(JSON.stringify(event));
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}
function flush(): void {
  flushScheduled = false;
  if (pending.length === 0) return;
  const text = pending.join("\n") + "\n";
  pending = [];
  fs.writeSync(1, text);
}

async function main(argv: readonly string[]): Promise<number> {
  const file = argv[0];
  if (file === undefined || argv.length !== 1 || file === "-h" || file === "--help") {
    process.stderr.write(`${USAGE}\n`);
    return file === "-h" || file === "--help" ? 0 : 2;
  }
  let spec: unknown;
  try {
    spec = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    process.stderr.write(`osad2-sim-clients: cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const pool = new SimPool(parseSimSpec(spec), emit);
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      pool.close();
      flush();
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    if (fs.fstatSync(0).isFIFO()) {
      process.stdin.resume();
      process.stdin.once("end", stop);
      process.stdin.once("error", stop);
    }
  });
  await pool.start();
  await stopped;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    flush();
    process.stderr.write(
      `osad2-sim-clients: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
