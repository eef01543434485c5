/**
 * Which connection (ROUTER routing id) each v3 push client's verified hello came from. Only a
 * hello whose signature verified binds a name (the routing id is never an identity); a newer
 * verified hello for the same name replaces the binding, so the old connection gets nothing
 * more. One map entry (name → 17-byte id) per client: no timers, no closures.
 */
export class ClientRoutes {
  private readonly byName = new Map<string, Buffer>();

  /** Binds `clientName` to the connection `routingId` (copied: received buffers may be slices). */
  bind(clientName: string, routingId: Buffer): void {
    this.byName.set(clientName, Buffer.from(routingId));
  }

  /**
   * Forgets the binding; with `routingId`, only if it is still that connection's (a newer
   * hello may have moved the name meanwhile). True when a binding was removed.
   */
  release(clientName: string, routingId?: Buffer): boolean {
    const bound = this.byName.get(clientName);
    if (bound === undefined) return false;
    if (routingId !== undefined && !bound.equals(routingId)) return false;
    return this.byName.delete(clientName);
  }

  routeOf(clientName: string): Buffer | undefined {
    return this.byName.get(clientName);
  }

  get size(): number {
    return this.byName.size;
  }

  entries(): IterableIterator<[string, Buffer]> {
    return this.byName.entries();
  }
}
