import type { ConnectionSender } from "./ports.js";

/**
 * Where a v3 client's connection is: a direct ROUTER peer (routing id on the client port) or a
 * connection behind an osad2 proxy (a virtual id of the proxy links). Each kind of connection
 * has its own sender and its own id space, so an id of one kind never addresses the other.
 */
export interface Route {
  readonly sender: ConnectionSender;
  readonly id: Buffer;
}

/**
 * Which connection each v3 push client's verified hello came from. Only a hello whose
 * signature verified binds a name (the routing id is never an identity); a newer verified
 * hello for the same name replaces the binding, so the old connection gets nothing more. One
 * map entry (name → route) per client: no timers, no closures.
 */
export class ClientRoutes {
  private readonly byName = new Map<string, Route>();

  /** Binds `clientName` to the connection `id` of `sender` (copied: received buffers may be slices). */
  bind(clientName: string, id: Buffer, sender: ConnectionSender): void {
    this.byName.set(clientName, { sender, id: Buffer.from(id) });
  }

  /**
   * Forgets the binding; with `route`, only if it is still that connection's (a newer hello
   * may have moved the name meanwhile). True when a binding was removed.
   */
  release(clientName: string, route?: Route): boolean {
    const bound = this.byName.get(clientName);
    if (bound === undefined) return false;
    if (route !== undefined && (bound.sender !== route.sender || !bound.id.equals(route.id)))
      return false;
    return this.byName.delete(clientName);
  }

  routeOf(clientName: string): Route | undefined {
    return this.byName.get(clientName);
  }

  get size(): number {
    return this.byName.size;
  }

  entries(): IterableIterator<[string, Route]> {
    return this.byName.entries();
  }

  /** The bindings the authenticator of one kind of connection (sender) writes through. */
  via(sender: ConnectionSender): {
    bind(clientName: string, id: Buffer): void;
    release(clientName: string): void;
  } {
    return {
      bind: (clientName, id) => this.bind(clientName, id, sender),
      release: (clientName) => void this.release(clientName),
    };
  }
}
