/** A simulated-clients spec (JSON file or object) that cannot be used; `field` names the bad key. */
export class SimSpecError extends Error {
  override readonly name = "SimSpecError";
  readonly field: string;

  constructor(field: string, detail: string, options?: { cause?: unknown }) {
    super(`simulated clients spec: ${field} ${detail}`, options);
    this.field = field;
  }
}

/** A child process of a {@link SimFleet} that died or said something it should not have. */
export class SimProcessError extends Error {
  override readonly name = "SimProcessError";
  readonly pid: number;

  constructor(pid: number, detail: string, options?: { cause?: unknown }) {
    super(`osad2-sim-clients (pid ${pid}): ${detail}`, options);
    this.pid = pid;
  }
}

/** register_osad or the store refused to register a simulated system. */
export class SimRegistrationError extends Error {
  override readonly name = "SimRegistrationError";
  readonly label: string;

  constructor(label: string, detail: string, options?: { cause?: unknown }) {
    super(`registering simulated system ${label}: ${detail}`, options);
    this.label = label;
  }
}
