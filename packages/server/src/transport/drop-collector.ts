import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Dropped bytes between two collections at most. */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;

type GcFunction = (options?: { type?: "minor" | "major" }) => void;

function exposeGc(): GcFunction | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? (gc as GcFunction) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Gives the memory of dropped frames back soon. zeromq.js hands each received frame over
 * without copying: libzmq's buffer lives until V8 collects the small Buffer object pointing at
 * it, and V8 collects for external memory only after ~64 MiB of it. A peer flooding 8 KiB frames
 * would hold that much (plus malloc's slack) at any time; a young-generation collection every
 * 8 MiB of dropped frames (a millisecond or two) frees them as they go.
 */
export class DropCollector {
  private bytes = 0;
  private readonly gc = exposeGc();

  /** A frame of `size` bytes was dropped. */
  dropped(size: number): void {
    if (this.gc === undefined) return;
    this.bytes += size;
    if (this.bytes < COLLECT_EVERY_BYTES) return;
    this.bytes = 0;
    this.gc({ type: "minor" });
  }
}
