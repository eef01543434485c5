import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isValidClientName } from "@osad2/protocol";
import { ensureDirectory, errnoCode, writeFileAtomic } from "@osad2/service-kit";
import type { ManagedClientsFile } from "./ports.js";

/** The file in state_dir holding the managed push clients' names. */
export const MANAGED_CLIENTS_FILE = "managed-clients.json";
/** Names are not secret; the service's group may read them. */
export const MANAGED_FILE_MODE = 0o640;
/** Mode of a state directory the server creates (an existing one keeps its mode). */
export const STATE_DIR_MODE = 0o750;
const FORMAT_VERSION = 1;

/** The managed-clients file cannot be read or makes no sense: the server refuses to start. */
export class ManagedClientsFileError extends Error {
  override readonly name = "ManagedClientsFileError";
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(
      `${path}: ${detail}; it lists the push clients this server manages (see state_dir). Restore it from a backup, or move it away to start with none managed (then each client is managed again at its next answer, but a client already gone stays online in rhnPushClient)`,
      options,
    );
    this.path = path;
  }
}

/**
 * `<state_dir>/managed-clients.json`: `{"version":1,"clients":[…names]}`, replaced atomically
 * (temp file, fsync, rename) so a crash leaves the old list or the new one, never half.
 */
export class JsonManagedClientsFile implements ManagedClientsFile {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, MANAGED_CLIENTS_FILE);
  }

  async load(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      // None yet: a fresh install, or an osad2 from before it kept the list.
      if (errnoCode(error) === "ENOENT") return [];
      throw new ManagedClientsFileError(
        this.path,
        `cannot be read (${errnoCode(error) ?? String(error)})`,
        { cause: error },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ManagedClientsFileError(this.path, "is not JSON", { cause: error });
    }
    const document = parsed as { version?: unknown; clients?: unknown } | null;
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      throw new ManagedClientsFileError(this.path, 'is not an object {"version":1,"clients":[…]}');
    }
    if (document.version !== FORMAT_VERSION) {
      throw new ManagedClientsFileError(
        this.path,
        `has version ${JSON.stringify(document.version)}, this server reads version ${FORMAT_VERSION}`,
      );
    }
    const clients = document.clients;
    if (!Array.isArray(clients)) {
      throw new ManagedClientsFileError(this.path, '"clients" is not a list');
    }
    const bad = clients.findIndex((name) => typeof name !== "string" || !isValidClientName(name));
    if (bad >= 0) {
      throw new ManagedClientsFileError(
        this.path,
        `"clients"[${bad}] is not a push client name: ${JSON.stringify(clients[bad])?.slice(0, 80)}`,
      );
    }
    return clients as string[];
  }

  async save(names: readonly string[]): Promise<void> {
    await ensureDirectory(dirname(this.path), STATE_DIR_MODE);
    const body = JSON.stringify({ version: FORMAT_VERSION, clients: names });
    await writeFileAtomic(this.path, `${body}\n`, { mode: MANAGED_FILE_MODE });
  }
}
