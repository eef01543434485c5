/**
 * Tells the key store when to look at the disk: fs.watch events (with the file names that
 * changed, coalesced over a short debounce) and a periodic tick. Decides nothing itself.
 */
import { watch as fsWatch, type FSWatcher } from "node:fs";

/** Names that changed in one directory, or "all" when the watcher could not say. */
export type ChangedNames = Set<string> | "all";

export interface MonitorOptions {
  readonly fsWatch: boolean;
  readonly pollIntervalMs: number;
  readonly debounceMs: number;
}

// Past this many distinct names in one batch, one full rescan is cheaper than many lookups.
const MAX_NAMES_PER_BATCH = 1000;

export class DirectoryMonitor {
  private readonly watchers = new Map<string, { watcher: FSWatcher; ino: number }>();
  private pending = new Map<string, ChangedNames>();
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Files to look at again later (see {@link recheck}), by path. */
  private readonly rechecks = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly options: MonitorOptions,
    private readonly onChanges: (batch: Map<string, ChangedNames>) => void,
    private readonly onTick: () => void,
  ) {}

  /** Starts the periodic tick (none when pollIntervalMs is 0). */
  start(): void {
    if (this.closed || this.options.pollIntervalMs <= 0) return;
    this.pollTimer = setInterval(this.onTick, this.options.pollIntervalMs);
    // A key store must never be what keeps a process alive.
    this.pollTimer.unref();
  }

  /** True while a live fs.watch covers `dir` with inode `ino`. */
  isWatching(dir: string, ino: number | undefined): boolean {
    const current = this.watchers.get(dir);
    return current !== undefined && current.ino === ino;
  }

  /**
   * Makes sure `dir` (inode `ino`) is watched, replacing a watch on an older directory of the
   * same name. Returns whether it is watched now.
   */
  watch(dir: string, ino: number | undefined): boolean {
    if (this.closed || !this.options.fsWatch) return false;
    if (this.isWatching(dir, ino)) return true;
    this.unwatch(dir);
    if (ino === undefined) return false;
    try {
      const watcher = fsWatch(dir, { persistent: false }, (_event, fileName) =>
        this.record(dir, typeof fileName === "string" ? fileName : null),
      );
      watcher.on("error", () => {
        // Polling keeps the store current; the next tick sees the watch gone and rescans.
        if (this.watchers.get(dir)?.watcher === watcher) this.unwatch(dir);
        this.record(dir, null);
      });
      this.watchers.set(dir, { watcher, ino });
      return true;
    } catch {
      // Directory missing or the inotify watch limit reached: polling covers it.
      return false;
    }
  }

  /** Reports `fileName` in `dir` as changed `delayMs` from now (once, however often asked meanwhile). */
  recheck(dir: string, fileName: string, delayMs: number): void {
    const key = `${dir}\0${fileName}`;
    if (this.closed || this.rechecks.has(key)) return;
    const timer = setTimeout(() => {
      this.rechecks.delete(key);
      this.record(dir, fileName);
    }, delayMs);
    timer.unref();
    this.rechecks.set(key, timer);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.pollTimer);
    for (const timer of this.rechecks.values()) clearTimeout(timer);
    this.rechecks.clear();
    clearTimeout(this.debounceTimer);
    for (const dir of [...this.watchers.keys()]) this.unwatch(dir);
    this.pending.clear();
  }

  private unwatch(dir: string): void {
    this.watchers.get(dir)?.watcher.close();
    this.watchers.delete(dir);
  }

  private record(dir: string, fileName: string | null): void {
    if (this.closed) return;
    const current = this.pending.get(dir);
    if (fileName === null || current === "all") {
      this.pending.set(dir, "all");
    } else if (current) {
      current.add(fileName);
      if (current.size > MAX_NAMES_PER_BATCH) this.pending.set(dir, "all");
    } else {
      this.pending.set(dir, new Set([fileName]));
    }
    if (this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      const batch = this.pending;
      this.pending = new Map();
      if (!this.closed) this.onChanges(batch);
    }, this.options.debounceMs);
    this.debounceTimer.unref();
  }
}
