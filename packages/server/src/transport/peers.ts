import type { AdmissionLog } from "./zap.js";
import type { PeerDirectory } from "./ports.js";

/** Handshakes this recent count as candidates for a connection first heard from now. */
const CANDIDATE_WINDOW_MS = 30_000;
const MAX_CANDIDATES = 4;
const MAX_ADMISSIONS = 256;
const MAX_CONNECTIONS = 20_000;

/**
 * Where a ROUTER connection comes from, as well as zeromq.js lets us tell. It hands out no
 * peer address per message (libzmq's "Peer-Address" message property is not exposed), and
 * the ZAP request carries the address but not the routing id. So: ZAP tells this book each
 * address it admitted to the ROUTER; the first time a routing id speaks, the addresses
 * admitted in the 30 s before are taken as its candidates (one, unless several clients
 * connected at once) and kept with it for its later messages.
 */
export class PeerAddressBook implements PeerDirectory, AdmissionLog {
  private readonly admissions: { readonly address: string; readonly at: number }[] = [];
  private readonly connections = new Map<string, readonly string[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** ZAP admitted a handshake from `address` to the ROUTER. */
  admitted(address: string): void {
    this.admissions.push({ address, at: this.now() });
    if (this.admissions.length > MAX_ADMISSIONS) this.admissions.shift();
  }

  peersOf(routingId: Buffer): readonly string[] {
    const id = routingId.toString("hex");
    const known = this.connections.get(id);
    if (known !== undefined) return known;
    const since = this.now() - CANDIDATE_WINDOW_MS;
    const candidates: string[] = [];
    for (let i = this.admissions.length - 1; i >= 0 && candidates.length < MAX_CANDIDATES; i--) {
      const admission = this.admissions[i];
      if (admission === undefined || admission.at < since) break;
      if (!candidates.includes(admission.address)) candidates.push(admission.address);
    }
    this.connections.set(id, candidates);
    if (this.connections.size > MAX_CONNECTIONS) {
      const oldest = this.connections.keys().next().value;
      if (oldest !== undefined) this.connections.delete(oldest);
    }
    return candidates;
  }
}
