/** A seeding call (createSystem, scheduleAction, setServerActionStatus) got bad input or referred to something that does not exist. */
export class SeedError extends Error {
  override readonly name = "SeedError";
  readonly reason: "unknown-action-type" | "unknown-server" | "unknown-server-action" | "bad-input";

  constructor(reason: SeedError["reason"], detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.reason = reason;
  }
}
