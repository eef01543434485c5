import type { Logger } from "@osad2/service-kit";
import type { DatabaseKind } from "../db/types.js";
import { parseDatabaseUrl } from "../db/url.js";
import {
  type NotifyingLease,
  type NotifyingRole,
  type RoleReport,
  RoleCoordinator,
  type ServerRole,
} from "./coordinator.js";
import { PostgresRoleLock } from "./role-lock.js";
import { claimSqliteDatabase } from "./single-server-lock.js";

/** How this server holds the notifying role, whichever database it uses. */
export interface RoleCoordination extends NotifyingLease {
  readonly role: ServerRole;
  /** `postgres-lock` (failover possible), `sqlite-sole` (one server per file) or `sole`. */
  readonly mode: "postgres-lock" | "sqlite-sole" | "sole";
  /** Call after the notifying part is stopped: releases the lock (a standby takes over). */
  stop(): Promise<void>;
}

export interface RoleCoordinationOptions {
  /** The `database` setting. */
  readonly database: string;
  /** The open store's kind (a library caller may pass its own store). */
  readonly storeKind: DatabaseKind;
  /** database_schema, when set. */
  readonly schema?: string;
  readonly role: NotifyingRole;
  readonly report: RoleReport;
  readonly logger: Logger;
  /** Lock attempt / check interval. Default 1 s. */
  readonly pollMs?: number;
}

/**
 * PostgreSQL: the advisory-lock coordinator (active now, or a standby polling). SQLite file:
 * claims the file for this one server (refusing a second) and is active. Anything else
 * (in-memory SQLite, a store of another kind than `database` names): active, alone.
 */
export async function startRoleCoordination(
  options: RoleCoordinationOptions,
): Promise<RoleCoordination> {
  const target = parseDatabaseUrl(options.database);
  if (target.kind === "postgres" && options.storeKind === "postgres") {
    const coordinator = new RoleCoordinator({
      lock: new PostgresRoleLock(
        target,
        options.schema === undefined ? {} : { schema: options.schema },
      ),
      role: options.role,
      report: options.report,
      logger: options.logger,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    });
    await coordinator.start();
    return {
      mode: "postgres-lock",
      get role() {
        return coordinator.role;
      },
      mayNotify: () => coordinator.mayNotify(),
      stop: () => coordinator.stop(),
    };
  }
  let release: () => Promise<void> = async () => {};
  const sqliteFile =
    target.kind === "sqlite" && options.storeKind === "sqlite" && target.filename !== ":memory:";
  if (sqliteFile) release = await claimSqliteDatabase(target.filename);
  try {
    await options.role.becomeActive();
  } catch (error) {
    await release();
    throw error;
  }
  options.report.roleChanged("active");
  return {
    mode: sqliteFile ? "sqlite-sole" : "sole",
    role: "active",
    mayNotify: () => true,
    stop: release,
  };
}
