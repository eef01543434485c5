import { closeSync, fstatSync, ftruncateSync, write, writeSync } from "node:fs";
import { errnoCode } from "./errno.js";

/** Bytes of log lines held in memory while the file is slow or cannot take them. Default 4 MiB. */
export const DEFAULT_LOG_BUFFER_BYTES = 4 * 1024 * 1024;
/** After a failed write (disk full, I/O error), the sink tries again this much later. Default 1 s. */
export const DEFAULT_LOG_RETRY_MS = 1000;
/** Largest single write: keeps one batch from holding the whole buffer in a second copy. */
const MAX_BATCH_BYTES = 256 * 1024;
/** How long a synchronous flush waits for the asynchronous write that is out to land. */
const FLUSH_WAIT_MS = 500;
/** Atomics.wait on a cell nobody notifies: a synchronous sleep. */
const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

/** Lines a log lost (the buffer was full, or a write failed). */
export interface LogDrops {
  /** Lines dropped since the process started. */
  readonly droppedLines: number;
}

/** Options of {@link LogFileSink}. */
export interface LogFileSinkOptions {
  /** Opens the file for appending (the logger creates it with fixed modes). */
  readonly open: () => number;
  /** Builds the JSON line that reports lines lost while the file could not be written. */
  readonly lossLine: (dropped: number, cause: string) => string;
  /** Default {@link DEFAULT_LOG_BUFFER_BYTES}. */
  readonly maxBufferBytes?: number;
  /** Default {@link DEFAULT_LOG_RETRY_MS}. */
  readonly retryMs?: number;
}

/**
 * A pino destination that never blocks the event loop and never throws or emits 'error':
 * lines queue in a bounded buffer and go out with one asynchronous write at a time. When the
 * buffer is full, or a write fails (ENOSPC), lines are dropped and counted; writing resumes
 * by itself once the file takes data again, starting with a line saying how many were lost.
 */
export class LogFileSink implements LogDrops {
  private fd: number | undefined;
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private dropped = 0;
  /** Dropped since the last loss line was written, and why. */
  private unreported = 0;
  private lastCause = "";
  /** A write stopped inside a line: the next write starts on a fresh line. */
  private midLine = false;
  /** The file of the write that is out, if any. */
  private writingFd: number | undefined;
  /** The file's size once the write that is out has landed (O_APPEND, one writer). */
  private writingEndSize: number | undefined;
  /** That file, replaced by reopen() meanwhile: closed once the write returns. */
  private closeAfterWrite: number | undefined;
  private closed = false;
  private readonly maxBufferBytes: number;
  private readonly retryMs: number;

  constructor(private readonly options: LogFileSinkOptions) {
    this.maxBufferBytes = options.maxBufferBytes ?? DEFAULT_LOG_BUFFER_BYTES;
    this.retryMs = options.retryMs ?? DEFAULT_LOG_RETRY_MS;
    this.fd = this.tryOpen();
  }

  get droppedLines(): number {
    return this.dropped;
  }

  /** pino's destination interface: one serialized line (with its newline). */
  write(line: string): boolean {
    if (this.closed) {
      this.drop(1, "the log is closed");
      return true;
    }
    if (this.queuedBytes + line.length > this.maxBufferBytes) {
      this.drop(1, "the log buffer is full (the log file is too slow or not writable)");
      return true;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.pump();
    return true;
  }

  /**
   * Reopens the file after logrotate moved it: every line written from now on goes to the new
   * file, even while a write to the old one is still out (that one finishes there). A file that
   * cannot be opened is retried.
   */
  reopen(): void {
    if (this.closed) return;
    const old = this.fd;
    this.fd = this.tryOpen();
    this.midLine = false;
    if (old === undefined) return;
    if (old === this.writingFd) this.closeAfterWrite = old;
    else closeQuietly(old);
  }

  /**
   * Writes what is queued synchronously (before exit, even while an asynchronous write is out);
   * lines that cannot be written are dropped.
   */
  flushSync(): void {
    if (this.fd === undefined) return;
    this.awaitWriteOutSync();
    const batch = this.takeBatch(Number.POSITIVE_INFINITY);
    if (batch.text === "") return;
    const buffer = Buffer.from(batch.text);
    try {
      const written = writeSync(this.fd, buffer);
      if (written < buffer.length) {
        this.midLine = false;
        this.cutPartialLine(this.fd, buffer, written);
        this.failed({ ...batch, lines: countLines(buffer.subarray(written)) }, "ENOSPC");
      }
    } catch (error) {
      this.failed(batch, errnoCode(error) ?? String(error));
    }
  }

  /** Flushes what it can and closes the file; later lines are dropped. Idempotent. */
  close(): void {
    this.flushSync();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const fd = this.fd;
    this.fd = undefined;
    this.closed = true;
    if (fd !== undefined) closeQuietly(fd);
  }

  private pump(): void {
    if (this.closed) return;
    if (this.writing || this.retryTimer !== undefined) return;
    const fd = this.fd;
    if (fd === undefined) return this.retryLater();
    if (this.queue.length === 0 && this.unreported === 0) return;
    const batch = this.takeBatch(MAX_BATCH_BYTES);
    if (batch.text === "") return;
    const buffer = Buffer.from(batch.text);
    this.writing = true;
    this.writingFd = fd;
    const sizeBefore = sizeOf(fd);
    this.writingEndSize = sizeBefore === undefined ? undefined : sizeBefore + buffer.length;
    write(fd, buffer, 0, buffer.length, null, (error, written) => {
      this.writing = false;
      this.writingFd = undefined;
      // Reopened meanwhile: what did not make it into the old file goes to the new one.
      const swapped = this.closeAfterWrite === fd;
      const retire = (): void => {
        if (!swapped) return;
        this.closeAfterWrite = undefined;
        closeQuietly(fd);
      };
      if (error) {
        if (!swapped) this.midLine = this.midLine || written > 0;
        retire();
        this.failed(batch, errnoCode(error) ?? error.message);
        this.retryLater();
        return;
      }
      if (written < buffer.length) {
        // A short write (the disk filling up): the rest goes first next time.
        if (!swapped) this.midLine = false;
        const from = this.cutPartialLine(fd, buffer, written, swapped);
        retire();
        if (from === 0) {
          // Not one whole line fitted: the disk is full.
          this.failed(batch, "ENOSPC");
          this.retryLater();
          return;
        }
        const rest = buffer.subarray(from).toString();
        this.queue.unshift(rest);
        this.queuedBytes += rest.length;
      } else {
        retire();
        if (!swapped) this.midLine = false;
      }
      this.pump();
    });
  }

  /**
   * The write that is out runs on libuv's thread pool and cannot be awaited here, so without
   * this a synchronous flush could land before it and put the last lines ahead of earlier ones
   * (seen when the pool was busy). Its landing shows in the file's size: wait for that, a
   * bounded time, so a stalled disk cannot hang the exit.
   */
  private awaitWriteOutSync(): void {
    const fd = this.writingFd;
    const endSize = this.writingEndSize;
    if (!this.writing || fd === undefined || fd !== this.fd || endSize === undefined) return;
    const deadline = Date.now() + FLUSH_WAIT_MS;
    while ((sizeOf(fd) ?? endSize) < endSize && Date.now() < deadline)
      Atomics.wait(SLEEP_CELL, 0, 0, 1);
  }

  /** Joins queued lines up to `limit` bytes, led by a loss report when lines were dropped. */
  private takeBatch(limit: number): Batch {
    let text = this.midLine ? "\n" : "";
    const reported = this.unreported;
    if (reported > 0) {
      text += this.options.lossLine(reported, this.lastCause);
      this.unreported = 0;
    }
    let lines = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] ?? "";
      if (lines > 0 && text.length + next.length > limit) break;
      text += next;
      lines += 1;
      this.queue.shift();
      this.queuedBytes -= next.length;
    }
    return { text, lines, reported };
  }

  /** A batch was not written: its lines are lost, its loss report is still owed. */
  private failed(batch: Batch, cause: string): void {
    this.unreported += batch.reported;
    this.drop(batch.lines, cause);
  }

  /**
   * After a short write, takes the part of a line that made it back out of the file, so the
   * file holds whole JSON lines only. Returns where in `buffer` the unwritten text starts.
   */
  private cutPartialLine(fd: number, buffer: Buffer, written: number, retired = false): number {
    const lineStart = buffer.lastIndexOf(0x0a, written - 1) + 1;
    const partial = written - lineStart;
    if (partial === 0) return written;
    try {
      ftruncateSync(fd, fstatSync(fd).size - partial);
      return lineStart;
    } catch {
      // A file reopen() replaced: the whole line goes to the new one instead.
      if (retired) return lineStart;
      // Cannot take it back: the next write starts on a fresh line instead.
      this.midLine = true;
      return written;
    }
  }

  private drop(lines: number, cause: string): void {
    this.dropped += lines;
    this.unreported += lines;
    this.lastCause = cause;
  }

  private retryLater(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      if (this.fd === undefined) this.fd = this.tryOpen();
      this.pump();
    }, this.retryMs);
    // Logging alone must not keep a process alive.
    this.retryTimer.unref();
  }

  private tryOpen(): number | undefined {
    try {
      return this.options.open();
    } catch (error) {
      this.lastCause = errnoCode(error) ?? String(error);
      return undefined;
    }
  }
}

/** The file's size; undefined when it cannot be read (then nothing waits on it). */
function sizeOf(fd: number): number | undefined {
  try {
    return fstatSync(fd).size;
  } catch {
    return undefined;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
}

function countLines(text: Buffer): number {
  let lines = 0;
  for (let at = text.indexOf(0x0a); at !== -1; at = text.indexOf(0x0a, at + 1)) lines += 1;
  return Math.max(1, lines);
}

interface Batch {
  readonly text: string;
  /** Queued lines in `text` (a partial line left by a short write counts as one). */
  readonly lines: number;
  /** Dropped lines the loss report in `text` announces. */
  readonly reported: number;
}
