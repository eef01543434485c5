import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { registerOsad } from "@osad2/client";
import { generateKeyPair, KeyStore, type KeyPair } from "@osad2/keys";
import type { SpacewalkStore } from "@osad2/server";
import { createSystem } from "@osad2/server/testing";
import { SimRegistrationError } from "./errors.js";
import { retryBusy } from "./retry.js";
import type { SimIdentity } from "./spec.js";

/** How a simulated system gets its push-client name. */
export type SimRegistrationMethod = "xmlrpc" | "store";

/** Options of {@link createSimSystems}. */
export interface SimSystemsOptions {
  /** Store of the server's database (Deployment.store()). */
  readonly store: SpacewalkStore;
  /** The server's key store root: each system's public key is added to its allow-list. */
  readonly certificates: string;
  readonly count: number;
  /** rhnServer.name and key-file name prefix; system i is `<prefix><i>`. Default "sim". */
  readonly prefix?: string;
  /**
   * `xmlrpc` (default): registration.register_osad against the running server through the real
   * client's own registerOsad (@osad2/client), reading the system's systemid file (needs
   * registrationUrl). `store`: the store's registerPushClient with
   * a fresh random name and shared key, as register_osad does it, without HTTP — for big N
   * or before the server runs.
   */
  readonly method?: SimRegistrationMethod;
  readonly registrationUrl?: string;
  /** Where the systems' systemid files are written (xmlrpc reads them from there, as the real client does). */
  readonly systemidDir: string;
  /** Registrations in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Called after every 1,000 systems created, then registered (progress on stderr). */
  readonly progress?: (done: number, phase: "created" | "registered") => void;
}

/** A simulated Spacewalk system: rhnServer row, key pair in the allow-list, registered push client. */
export interface SimSystem extends SimIdentity {
  readonly label: string;
  readonly serverId: number;
}

/**
 * Creates `count` systems (signed systemids, rhnServer rows), gives each its own key pair
 * (public key added to the server's allow-list via KeyStore.add) and registers its push client.
 */
export async function createSimSystems(options: SimSystemsOptions): Promise<SimSystem[]> {
  const prefix = options.prefix ?? "sim";
  const method = options.method ?? "xmlrpc";
  if (method === "xmlrpc" && !options.registrationUrl) {
    throw new SimRegistrationError(prefix, "method xmlrpc needs registrationUrl");
  }
  await fs.mkdir(options.systemidDir, { recursive: true });
  const keys = await KeyStore.open(options.certificates);
  // Two phases, so this process and the server never write the database at the same time: on
  // SQLite a read-then-write transaction (createSystem) that races another process's write
  // fails at once with SQLITE_BUSY, whatever the busy timeout.
  const created: { label: string; serverId: number; systemidPath: string; keyPair: KeyPair }[] = [];
  try {
    for (let i = 0; i < options.count; i++) {
      const label = `${prefix}${i}`;
      const { system, systemIdXml } = await retryBusy(() =>
        createSystem(options.store, { name: label }),
      );
      const keyPair = generateKeyPair();
      await keys.add(label, keyPair.publicKey);
      const systemidPath = path.join(options.systemidDir, `${label}.systemid`);
      await fs.writeFile(systemidPath, systemIdXml, { mode: 0o600 });
      created.push({ label, serverId: system.id, systemidPath, keyPair });
      if ((i + 1) % 1000 === 0) options.progress?.(i + 1, "created");
    }
  } finally {
    await keys.close();
  }
  const result: SimSystem[] = new Array<SimSystem>(options.count);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < created.length) {
      const i = next++;
      const { label, serverId, systemidPath, keyPair } = created[i] as (typeof created)[number];
      let name: string;
      let sharedKey: string;
      if (method === "xmlrpc") {
        try {
          const reply = await registerOsad({
            serverUrl: options.registrationUrl as string,
            systemidPath,
          });
          name = reply.clientName;
          if (reply.sharedKey === undefined) throw new Error("the reply has no shared-key");
          sharedKey = reply.sharedKey;
        } catch (error) {
          throw new SimRegistrationError(label, (error as Error).message, { cause: error });
        }
      } else {
        name = randomBytes(8).toString("hex");
        sharedKey = randomBytes(20).toString("hex");
        await retryBusy(() => options.store.registerPushClient(serverId, { name, sharedKey }));
      }
      result[i] = { label, serverId, name, sharedKey, ...keyPair };
      if (++done % 1000 === 0) options.progress?.(done, "registered");
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, options.count));
  await Promise.all(Array.from({ length: workers }, worker));
  return result;
}
