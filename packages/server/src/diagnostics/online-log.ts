import type { PresenceReport } from "../presence/ports.js";
import type { ClientIdentity } from "./connection-book.js";

/** Telemetry's presence report, whose "client online" line can carry who the client is. */
export interface IdentifiedPresenceReport extends PresenceReport {
  cameOnline(clientName: string, identity?: ClientIdentity): void;
}

/** Who a push client is (the connection book). */
export interface ClientIdentities {
  identify(clientName: string): Promise<ClientIdentity>;
}

/**
 * Presence's report with the client's server id and key name added to "client online": the
 * one log line that ties the rotating client name to the Spacewalk system and the key file.
 * The look-up was started by the client's signed hello, so it is normally done already.
 */
export class IdentifyingPresenceReport implements PresenceReport {
  constructor(
    private readonly inner: IdentifiedPresenceReport,
    private readonly identities: ClientIdentities,
  ) {}

  cameOnline(clientName: string): void {
    this.identities.identify(clientName).then(
      (identity) => this.inner.cameOnline(clientName, identity),
      () => this.inner.cameOnline(clientName),
    );
  }

  wentOffline(clientNames: readonly string[]): void {
    this.inner.wentOffline(clientNames);
  }

  presenceFailed(error: unknown): void {
    this.inner.presenceFailed(error);
  }
}
