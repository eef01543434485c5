// One JSON object per line between the raw bench and its child processes.
import fs from "node:fs";
import readline from "node:readline";

let pending: string[] = [];
let scheduled = false;

/** Queues a line for stdout; one write per event-loop turn, so bursts stay one syscall. */
export function emit(event: object): void {
  pending.push(JSON.stringify(event));
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush);
}

/** Writes what {@link emit} queued, now. */
export function flush(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const text = `${pending.join("\n")}\n`;
  pending = [];
  fs.writeSync(1, text);
}

/** Calls `handle` for each JSON line on stdin; exits the process when the parent goes away. */
export function onStdinLines(handle: (message: Record<string, unknown>) => void): void {
  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    handle(JSON.parse(line) as Record<string, unknown>);
  });
  process.stdin.once("end", () => {
    flush();
    process.exit(0);
  });
}
