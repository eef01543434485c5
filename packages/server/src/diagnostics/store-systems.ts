import type { SpacewalkStore } from "../db/types.js";
import type { ClientSystems } from "./ports.js";

/**
 * Which system a push client name belongs to, through the store's public calls (any
 * SpacewalkStore the server runs on): rhnPushClient by name, then rhnServer by id. Asked once
 * per new name (a verified hello), never per message.
 */
export class StoreClientSystems implements ClientSystems {
  constructor(private readonly store: Pick<SpacewalkStore, "findClient" | "findSystem">) {}

  async systemOf(
    clientName: string,
  ): Promise<{ serverId: number; profileName: string } | undefined> {
    const client = await this.store.findClient(clientName);
    if (client === undefined) return undefined;
    // `ID-<digits>` is looked up by number, as Spacewalk's rhnServer.get does.
    const system = await this.store.findSystem(`ID-${client.serverId}`);
    return { serverId: client.serverId, profileName: system?.name ?? "" };
  }
}
