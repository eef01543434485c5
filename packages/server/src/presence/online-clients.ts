import type { OnlineView } from "./ports.js";

/**
 * Who is online as this server knows it: the online rhnPushClient rows of the clients it
 * manages as of the last ping round, plus those whose answer was written since (rows
 * osa-dispatcher keeps are not in it). Presence writes it; the dispatcher and the metrics
 * read it.
 */
export class OnlineClients implements OnlineView {
  private names = new Set<string>();

  isOnline(clientName: string): boolean {
    return this.names.has(clientName);
  }

  get onlineCount(): number {
    return this.names.size;
  }

  /** Adds a client; true when it was not online before. */
  add(clientName: string): boolean {
    if (this.names.has(clientName)) return false;
    this.names.add(clientName);
    return true;
  }

  delete(clientName: string): void {
    this.names.delete(clientName);
  }

  /** Everyone online now, replacing the previous set. */
  replace(clientNames: Iterable<string>): void {
    this.names = new Set(clientNames);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.names[Symbol.iterator]();
  }
}
