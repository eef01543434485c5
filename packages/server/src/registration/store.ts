import type { PushDispatcher, SpacewalkSystem } from "../db/types.js";

/** The store calls registration makes; the database layer's SpacewalkStore has them. */
export interface RegistrationStore {
  /** The rhnServer row with this digital_server_id (`ID-<number>` is looked up by number). */
  findSystemByDigitalId(digitalServerId: string): Promise<SpacewalkSystem | undefined>;
  /** register_osad: the system's rhnPushClient gets this name and key (offline, times cleared). */
  registerPushClient(
    serverId: number,
    client: { readonly name: string; readonly sharedKey: string },
  ): Promise<void>;
  /** register_osad_jid: records the system's jabber id. */
  registerPushClientJid(serverId: number, jabberId: string): Promise<void>;
  /** rhnPushDispatcher rows, whose jabber ids register_osad lists. */
  pushDispatchers(): Promise<PushDispatcher[]>;
}
