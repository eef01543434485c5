import type { Logger } from "pino";
import { EXIT_FAILURE } from "./cli.js";
import { describeError } from "./errno.js";

/** What {@link exitOnFatalErrors} needs of a service logger. */
export interface FatalLog {
  readonly logger: Logger;
  flush(): void;
}

/**
 * Makes an uncaught exception or an unhandled promise rejection end the process the way every
 * other failure does: one fatal JSON line with the stack in the log, one line on stderr, exit 1.
 * Without it such an error reaches only stderr, which a service's log never shows.
 */
export function exitOnFatalErrors(
  log: FatalLog,
  program: string,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let exiting = false;
  const die = (error: unknown, origin: string): void => {
    // An error while dying (the log itself failing) must not recurse.
    if (exiting) return;
    exiting = true;
    try {
      log.logger.fatal({ err: error, origin }, `${origin}; exiting: ${describeError(error)}`);
      log.flush();
    } finally {
      process.stderr.write(`${program}: fatal ${origin}: ${describeError(error)}\n`);
      exit(EXIT_FAILURE);
    }
  };
  process.on("uncaughtException", (error) => die(error, "uncaught exception"));
  process.on("unhandledRejection", (reason) => die(reason, "unhandled promise rejection"));
}
