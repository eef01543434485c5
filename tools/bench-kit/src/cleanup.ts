/**
 * What must be undone if the bench is interrupted (Ctrl-C, SIGTERM): servers, simulated
 * clients, PostgreSQL schemas and temporary directories. Newest first.
 */
const pending: (() => Promise<void>)[] = [];

/** Registers an undo step; returns its remover (call it once the step ran normally). */
export function onInterrupt(undo: () => Promise<void>): () => void {
  pending.push(undo);
  return () => {
    const i = pending.indexOf(undo);
    if (i >= 0) pending.splice(i, 1);
  };
}

let installed = false;

/** On SIGINT/SIGTERM: run every pending undo step, then exit 130. */
export function installInterruptHandler(log: (message: string) => void): void {
  if (installed) return;
  installed = true;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: cleaning up ${pending.length} step(s) ...`);
    void (async () => {
      for (const undo of pending.splice(0).reverse()) await undo().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
