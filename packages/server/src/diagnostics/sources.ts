import { KeyStore, keyUsagePath, readKeyUsage, type KeyUsage } from "@osad2/keys";
import type { ServerConfig } from "../config/schema.js";
import { diagnosisStore } from "../db/diagnosis-queries.js";
import type { SpacewalkStore } from "../db/types.js";
import { JsonManagedClientsFile } from "../presence/managed-file.js";
import { fetchLiveState } from "./control-socket.js";
import { KeyStoreDirectory } from "./key-directory.js";
import type { LiveState } from "./live-types.js";
import type { DoctorDatabase, DoctorSources } from "./ports.js";
import type { SystemsSources } from "./systems.js";

/** The dispatcher's queries and the diagnosis look-ups on one store. */
export function doctorDatabase(store: SpacewalkStore): DoctorDatabase {
  const queries = diagnosisStore(store);
  return {
    findSystems: (reference) => queries.findSystems(reference),
    systemsById: (ids) => queries.systemsById(ids),
    pendingActions: (serverId) => queries.pendingActions(serverId),
    actionStatuses: (serverId, ids) => queries.actionStatuses(serverId, ids),
    dueActions: (clientName, now, includePickedUp) =>
      store.dueActions(now, { clients: [clientName], includePickedUp }),
    runningSystems: () => store.runningSystems(),
  };
}

/** The settings doctor judges by when the server is not running (the config file's). */
export function configSettings(config: ServerConfig): LiveState["settings"] {
  return {
    pingIntervalMs: config.pingInterval * 1000,
    missedPings: config.missedPings,
    notifyThreshold: config.notifyThreshold,
    renotifyPickedUp: config.renotifyPickedUp,
    publisherPort: config.publisherPort,
    listenerPort: config.listenerPort,
  };
}

function merged(
  file: ReadonlyMap<string, KeyUsage>,
  live: LiveState | null,
): Map<string, KeyUsage> {
  const usage = new Map(file);
  for (const [name, entry] of Object.entries(live?.usage ?? {})) usage.set(name, entry);
  return usage;
}

/**
 * Opens what doctor and systems read: the live state (null when the server does not answer),
 * key-usage.json, the key store (read once, not watched). `use` runs with them; all is closed after.
 */
export async function withDiagnosisSources<T>(
  config: ServerConfig,
  store: SpacewalkStore,
  use: (doctor: DoctorSources, systems: () => Promise<SystemsSources>) => Promise<T>,
): Promise<T> {
  const live = await fetchLiveState(config.stateDir);
  const usage = await readKeyUsage(keyUsagePath(config.stateDir));
  const keyStore = await KeyStore.open(config.certificates, { pollIntervalMs: 0, fsWatch: false });
  try {
    const database = doctorDatabase(store);
    const doctor: DoctorSources = {
      database,
      keys: new KeyStoreDirectory(keyStore),
      usage,
      live,
      settings: live?.settings ?? configSettings(config),
      now: new Date(),
    };
    const systems = async (): Promise<SystemsSources> => {
      const managed = live?.managed ?? (await new JsonManagedClientsFile(config.stateDir).load());
      return {
        managed,
        live,
        records: await diagnosisStore(store).systemsByClient(managed),
        usage: merged(usage, live),
      };
    };
    return await use(doctor, systems);
  } finally {
    await keyStore.close();
  }
}
