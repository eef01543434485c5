import type { ManagedClientsFile, ManagedClientsStore, ManagedView } from "./ports.js";

/** Options of {@link ManagedClients.open}. */
export interface ManagedClientsOptions {
  readonly file: ManagedClientsFile;
  readonly store: ManagedClientsStore;
  /** A save failed; it is retried at the next change or {@link ManagedClients.flush}. */
  readonly saveFailed: (error: unknown, path: string) => void;
}

/**
 * The push clients whose presence this server keeps: those that proved themselves to it (a
 * verified hello, pong or goodbye) or that its register_osad registered. In a mixed fleet
 * every other rhnPushClient row belongs to osa-dispatcher and is never written. Kept in a
 * file so a restart still knows them (a client killed while the server was down is reaped
 * after the restart); Spacewalk's tables are not altered for it.
 */
export class ManagedClients implements ManagedView {
  private saving: Promise<void> | undefined;
  private dirty = false;

  private constructor(
    private readonly options: ManagedClientsOptions,
    private readonly names: Set<string>,
  ) {}

  /** Loads the saved set; throws the file's error (corrupt, unreadable) so the server does not start. */
  static async open(options: ManagedClientsOptions): Promise<ManagedClients> {
    return new ManagedClients(options, new Set(await options.file.load()));
  }

  isManaged(clientName: string): boolean {
    return this.names.has(clientName);
  }

  /** The managed names, sorted. */
  list(): string[] {
    return [...this.names].sort();
  }

  get size(): number {
    return this.names.size;
  }

  /**
   * Manages this client from now on. Resolves once that is saved (at once when it was managed
   * already), so a row is never online under this server's care without the file knowing it.
   * Never rejects: a failed save is reported and retried.
   */
  admit(clientName: string): Promise<void> {
    if (this.names.has(clientName)) return this.saving ?? Promise.resolve();
    this.names.add(clientName);
    return this.save();
  }

  /** register_osad gave a system a new name: the old one is no longer a client of anyone. */
  replace(oldName: string | undefined, newName: string): Promise<void> {
    if (oldName !== undefined && oldName !== newName) this.names.delete(oldName);
    this.names.add(newName);
    return this.save();
  }

  /** Drops names whose rhnPushClient row is gone (renamed elsewhere, deleted); returns how many. */
  async prune(): Promise<number> {
    if (this.names.size === 0) return 0;
    const snapshot = [...this.names];
    const existing = new Set(await this.options.store.existingClientNames(snapshot));
    let removed = 0;
    for (const name of snapshot) {
      if (existing.has(name)) continue;
      this.names.delete(name);
      removed += 1;
    }
    if (removed > 0) await this.save();
    return removed;
  }

  /** Saves what a failed save left unsaved; resolves when everything so far is on disk (or failed again). */
  flush(): Promise<void> {
    if (this.dirty && this.saving === undefined) return this.save();
    return this.saving ?? Promise.resolve();
  }

  private save(): Promise<void> {
    this.dirty = true;
    // One write at a time; changes made meanwhile go into the next one.
    this.saving ??= this.drain().finally(() => (this.saving = undefined));
    return this.saving;
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        await this.options.file.save([...this.names].sort());
      } catch (error) {
        this.dirty = true;
        this.options.saveFailed(error, this.options.file.path);
        return;
      }
    }
  }
}
