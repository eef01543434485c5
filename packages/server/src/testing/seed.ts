import { randomBytes } from "node:crypto";
import { spacewalkWrites } from "../db/spacewalk-writes.js";
import type { SpacewalkStore, SpacewalkSystem } from "../db/types.js";
import { signSystemId } from "../registration/systemid.js";
import { SeedError } from "./errors.js";

/*
 * Seeding tooling for standalone trials and tests: it writes the rows Spacewalk itself would
 * write when a system registers and when an administrator schedules an action. Never needed
 * against a real Spacewalk, which does all of this on its own.
 */

/** Options of {@link createSystem}. */
export interface CreateSystemOptions {
  /** rhnServer.id. Default: the next id (rhn_server_id_seq on PostgreSQL, from 1000010000). */
  readonly id?: number;
  /** rhnServer.name (profile name). */
  readonly name: string;
  /** rhnServer.secret: 64 hex characters (sha256 checksums) or 32 (md5). Default: 64 fresh random hex. */
  readonly secret?: string;
  /** rhnServer.org_id. Default 1. */
  readonly orgId?: number;
  /** systemid `username` member. Default "admin". */
  readonly username?: string;
  /** systemid `operating_system` / rhnServer.os. Default "redhat-release-server". */
  readonly operatingSystem?: string;
  /** systemid `os_release` / rhnServer.release. Default "7Server". */
  readonly osRelease?: string;
  /** systemid `architecture` / rhnServer.server_arch_id (by rhnServerArch label). Default "x86_64-redhat-linux". */
  readonly architecture?: string;
}

/** Inserts an rhnServer row and returns it with a systemid document signed as Spacewalk signs it. */
export async function createSystem(
  store: SpacewalkStore,
  options: CreateSystemOptions,
): Promise<{ readonly system: SpacewalkSystem; readonly systemIdXml: string }> {
  const secret = options.secret ?? randomBytes(32).toString("hex");
  if (secret.length !== 64 && secret.length !== 32) {
    throw new SeedError(
      "bad-input",
      `secret must have 64 (sha256) or 32 (md5) characters, got ${secret.length}`,
    );
  }
  if (options.id !== undefined && (!Number.isSafeInteger(options.id) || options.id < 1)) {
    throw new SeedError("bad-input", `id must be a positive integer, got ${options.id}`);
  }
  const os = options.operatingSystem ?? "redhat-release-server";
  const release = options.osRelease ?? "7Server";
  const architecture = options.architecture ?? "x86_64-redhat-linux";
  const id = await spacewalkWrites(store).insertSystem({
    id: options.id,
    orgId: options.orgId ?? 1,
    name: options.name,
    secret,
    os,
    release,
    architecture,
  });
  const system: SpacewalkSystem = { id, digitalServerId: `ID-${id}`, name: options.name, secret };
  const systemIdXml = signSystemId(
    {
      system_id: system.digitalServerId,
      username: options.username ?? "admin",
      os_release: release,
      operating_system: os,
      architecture,
      type: "REAL",
      profile_name: options.name,
      description: `Initial Registration Parameters:\nOS: ${os}\nRelease: ${release}`,
    },
    secret,
  );
  return { system, systemIdXml };
}

/** Options of {@link scheduleAction}. */
export interface ScheduleActionOptions {
  /** Systems (rhnServer ids) the action is for; at least one. */
  readonly serverIds: readonly number[];
  /** rhnActionType label. Default "packages.update". */
  readonly type?: string;
  /** rhnAction.earliest_action. Default now. */
  readonly earliest?: Date;
  /** rhnAction.prerequisite: an action that must complete first on each system. */
  readonly prerequisite?: number;
  /** rhnAction.name. Default "<type label> scheduled by osad2". */
  readonly name?: string;
}

/** Inserts an rhnAction and one queued (status 0) rhnServerAction per system, in one transaction; returns the action id. */
export async function scheduleAction(
  store: SpacewalkStore,
  options: ScheduleActionOptions,
): Promise<number> {
  if (options.serverIds.length === 0)
    throw new SeedError("bad-input", "serverIds must name at least one system");
  const label = options.type ?? "packages.update";
  const result = await spacewalkWrites(store).insertAction({
    serverIds: options.serverIds,
    type: label,
    name: options.name ?? `${label} scheduled by osad2`,
    earliest: options.earliest ?? new Date(),
    prerequisite: options.prerequisite ?? null,
  });
  switch (result.kind) {
    case "inserted":
      return result.actionId;
    case "unknown-action-type":
      throw new SeedError(
        "unknown-action-type",
        `unknown action type "${label}"; known: ${result.knownTypes.join(", ")}`,
      );
    case "unknown-server":
      throw new SeedError(
        "unknown-server",
        `no rhnServer row for id(s) ${result.missingServerIds.join(", ")}`,
      );
  }
}

/** Options of {@link setServerActionStatus}. */
export interface SetServerActionStatusOptions {
  readonly serverId: number;
  readonly actionId: number;
  /** 0 queued, 1 picked up (sets pickup_time), 2 completed, 3 failed (set completion_time). */
  readonly status: 0 | 1 | 2 | 3;
}

/** Moves one rhnServerAction row to a status, as rhn_check and Spacewalk do while an action runs. */
export async function setServerActionStatus(
  store: SpacewalkStore,
  options: SetServerActionStatusOptions,
): Promise<void> {
  if (![0, 1, 2, 3].includes(options.status)) {
    throw new SeedError("bad-input", `status must be 0, 1, 2 or 3, got ${String(options.status)}`);
  }
  const updated = await spacewalkWrites(store).updateServerActionStatus(
    options.serverId,
    options.actionId,
    options.status,
  );
  if (!updated) {
    throw new SeedError(
      "unknown-server-action",
      `no rhnServerAction row for server ${options.serverId} and action ${options.actionId}`,
    );
  }
}
