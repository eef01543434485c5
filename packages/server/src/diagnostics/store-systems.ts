import { diagnosisStore, type DiagnosisStore } from "../db/diagnosis-queries.js";
import type { SpacewalkStore } from "../db/types.js";
import type { ClientSystems } from "./ports.js";

/** Which system a push client name belongs to, read from rhnPushClient and rhnServer. */
export class StoreClientSystems implements ClientSystems {
  private readonly queries: DiagnosisStore;

  constructor(store: SpacewalkStore) {
    this.queries = diagnosisStore(store);
  }

  async systemOf(
    clientName: string,
  ): Promise<{ serverId: number; profileName: string } | undefined> {
    const [system] = await this.queries.systemsByClient([clientName]);
    return system === undefined
      ? undefined
      : { serverId: system.serverId, profileName: system.profileName };
  }
}
