import type { SpacewalkStore } from "../db/types.js";
import type { RegistrationStore } from "../registration/store.js";
import type { ManagedClients } from "./managed-clients.js";

/** The store calls register_osad makes, plus the look-up of a system's current client name. */
export type ManagedRegistrationSource = RegistrationStore & Pick<SpacewalkStore, "clientNameOf">;

/** The cache of shared keys by client name (SharedKeyCache), as registration sees it. */
export interface SharedKeyMemory {
  forget(clientName: string): void;
}

/**
 * The registration store register_osad uses, seen through presence: a push client this
 * server registers is managed by it from then on, and the name it replaces (register_osad
 * renames a system's client every time) is not. Both names' cached shared keys are dropped:
 * the old key must stop verifying at once, not when its cache entry runs out (up to 20 s in
 * which a replaced client was still trusted and not told to register again).
 */
export class ManagingRegistrationStore implements RegistrationStore {
  constructor(
    private readonly store: ManagedRegistrationSource,
    private readonly managed: ManagedClients,
    private readonly keys: SharedKeyMemory,
  ) {}

  findSystem(systemId: string): ReturnType<RegistrationStore["findSystem"]> {
    return this.store.findSystem(systemId);
  }

  recordCheckin(serverId: number, at: Date): Promise<void> {
    return this.store.recordCheckin(serverId, at);
  }

  async registerPushClient(
    serverId: number,
    client: { readonly name: string; readonly sharedKey: string },
  ): Promise<void> {
    const previous = await this.store.clientNameOf(serverId);
    await this.store.registerPushClient(serverId, client);
    if (previous !== undefined) this.keys.forget(previous);
    this.keys.forget(client.name);
    await this.managed.replace(previous, client.name);
  }

  registerPushClientJid(serverId: number, jabberId: string): Promise<void> {
    return this.store.registerPushClientJid(serverId, jabberId);
  }

  pushDispatchers(): ReturnType<RegistrationStore["pushDispatchers"]> {
    return this.store.pushDispatchers();
  }
}
