import { openSync, renameSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TempDirs, waitFor } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import { LogFileSink } from "../src/index.js";

const dirs = new TempDirs("osad2-kit-sink-");
const sinks: LogFileSink[] = [];
afterEach(async () => {
  for (const sink of sinks.splice(0)) sink.close();
  await dirs.removeAll();
});
function sinkOf(options: ConstructorParameters<typeof LogFileSink>[0]): LogFileSink {
  const sink = new LogFileSink(options);
  sinks.push(sink);
  return sink;
}

const lossLine = (dropped: number, cause: string): string =>
  `${JSON.stringify({ msg: "lost", dropped, cause })}\n`;
/** Lines of equal length, so buffer arithmetic is exact. */
const line = (n: number): string =>
  `${JSON.stringify({ msg: "line", n, pad: "x".repeat(3 - String(n).length) })}\n`;

async function jsonLines(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("LogFileSink", () => {
  it("writes lines in order without blocking and flushes synchronously", async () => {
    const file = join(await dirs.make(), "a.log");
    const sink = sinkOf({ open: () => openSync(file, "a"), lossLine });
    for (let n = 0; n < 1000; n += 1) sink.write(line(n));
    sink.flushSync();
    await waitFor("all lines written", async () => (await jsonLines(file)).length === 1000);
    expect((await jsonLines(file)).map((l) => l.n)).toEqual([...Array(1000).keys()]);
    expect(sink.droppedLines).toBe(0);
  });

  it("on a full disk (/dev/full) drops and counts lines, never throws, and resumes with a loss report", async () => {
    const file = join(await dirs.make(), "b.log");
    let full = true;
    const sink = sinkOf({
      open: () => openSync(full ? "/dev/full" : file, "a"),
      lossLine,
      retryMs: 20,
    });
    for (let n = 0; n < 50; n += 1) sink.write(line(n));
    await waitFor("the 50 lines counted as dropped", () => sink.droppedLines === 50);
    sink.flushSync();
    full = false;
    sink.reopen();
    sink.write(line(50));
    await waitFor("logging resumed", async () => (await jsonLines(file)).length === 2);
    expect(await jsonLines(file)).toEqual([
      { msg: "lost", dropped: 50, cause: "ENOSPC" },
      { msg: "line", n: 50, pad: "x" },
    ]);
    expect(sink.droppedLines).toBe(50);
  });

  it("reopen() while a write is out: that write ends in the old file, every later line in the new one", async () => {
    const dir = await dirs.make();
    const file = join(dir, "r.log");
    const sink = sinkOf({ open: () => openSync(file, "a"), lossLine });
    sink.write(line(0)); // its asynchronous write is now out, on the file being rotated
    renameSync(file, `${file}.1`); // no await: the write must still be out
    sink.reopen();
    sink.write(line(1));
    sink.flushSync(); // synchronously, to the new file (before: to the rotated one)
    expect((await jsonLines(file)).map((l) => l.n)).toEqual([1]);
    sink.write(line(2));
    await waitFor("line 2 written", async () => (await jsonLines(file)).length === 2);
    expect((await jsonLines(file)).map((l) => l.n)).toEqual([1, 2]);
    expect((await jsonLines(`${file}.1`)).map((l) => l.n)).toEqual([0]);
  });

  it("drops and counts lines beyond its buffer instead of growing without bound", async () => {
    const file = join(await dirs.make(), "c.log");
    const sink = sinkOf({
      open: () => openSync(file, "a"),
      lossLine,
      maxBufferBytes: 10 * line(0).length,
    });
    // The first line goes out at once; the buffer then holds ten; the rest is dropped.
    for (let n = 0; n < 100; n += 1) sink.write(line(n));
    expect(sink.droppedLines).toBe(89);
    await waitFor("the buffered lines and the loss report written", async () =>
      (await jsonLines(file)).some((l) => l.msg === "lost"),
    );
    const lines = await jsonLines(file);
    expect(lines.filter((l) => l.msg === "line")).toHaveLength(11);
    expect(lines.find((l) => l.msg === "lost")).toMatchObject({ dropped: 89 });
  });
});
