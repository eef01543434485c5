import type { Logger } from "@osad2/service-kit";
import type { ClientSender } from "../transport/ports.js";
import type { NotifyingLease } from "./coordinator.js";

/**
 * The notifier's sender: sends a checkin only while the lease says this process holds the
 * notifying role, and logs each one (debug: `checkin sent`, with its time — what the
 * failover tests read to prove two servers never notify at once).
 */
export class FencedSender implements ClientSender {
  private withheld = 0;

  constructor(
    private readonly inner: ClientSender,
    private readonly lease: NotifyingLease,
    private readonly logger: Logger,
  ) {}

  ping(token: string): Promise<void> {
    return this.inner.ping(token);
  }

  async checkin(clientName: string): Promise<void> {
    if (!this.lease.mayNotify()) {
      this.withheld += 1;
      if (this.withheld === 1 || this.withheld % 1000 === 0) {
        this.logger.warn(
          { clientName, withheld: this.withheld },
          "checkin withheld: the notifying role's lock is not confirmed (fenced until the next check)",
        );
      }
      return;
    }
    this.withheld = 0;
    await this.inner.checkin(clientName);
    this.logger.debug({ clientName }, "checkin sent");
  }
}
