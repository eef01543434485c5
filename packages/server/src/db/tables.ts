/**
 * Names and reference data of the Spacewalk subset osad2 uses. Table names are lower-case:
 * Spacewalk's PostgreSQL DDL leaves them unquoted, so PostgreSQL folds them, and SQLite
 * ignores case in identifiers anyway.
 */
export const TABLES = {
  server: "rhnserver",
  serverInfo: "rhnserverinfo",
  actionType: "rhnactiontype",
  actionStatus: "rhnactionstatus",
  action: "rhnaction",
  serverAction: "rhnserveraction",
  pushClientState: "rhnpushclientstate",
  pushClient: "rhnpushclient",
  pushDispatcher: "rhnpushdispatcher",
} as const;

/** Tables a database must have for osad2 to run against it (rhnActionStatus and rhnPushDispatcher are optional). */
export const REQUIRED_TABLES: readonly string[] = [
  TABLES.server,
  TABLES.actionType,
  TABLES.action,
  TABLES.serverAction,
  TABLES.pushClientState,
  TABLES.pushClient,
];

/** Sequences Spacewalk uses on PostgreSQL; the standalone schema creates the same ones. */
export const SEQUENCES = {
  server: "rhn_server_id_seq",
  action: "rhn_event_id_seq",
  pushClient: "rhn_pclient_id_seq",
  pushClientState: "rhn_pclient_state_id_seq",
  pushDispatcher: "rhn_pushdispatch_id_seq",
} as const;

/** Spacewalk's first rhnServer id (rhn_server_id_seq starts here), so digital ids look like `ID-1000010000`. */
export const FIRST_SERVER_ID = 1000010000;

/**
 * rhnServer.server_arch_id of systems in osad2's own schema, which has no rhnServerArch table
 * to point into (seeding into Spacewalk's schema looks the architecture up instead).
 */
export const TRIAL_SERVER_ARCH_ID = 1;

/** rhnActionStatus rows, exactly as Spacewalk seeds them. */
export const ACTION_STATUSES: readonly { readonly id: 0 | 1 | 2 | 3; readonly name: string }[] = [
  { id: 0, name: "Queued" },
  { id: 1, name: "Picked Up" },
  { id: 2, name: "Completed" },
  { id: 3, name: "Failed" },
];

/** rhnPushClientState rows in Spacewalk's insertion order (its sequence gives online 1, offline 2). */
export const PUSH_CLIENT_STATES: readonly {
  readonly id: number;
  readonly label: "online" | "offline";
}[] = [
  { id: 1, label: "online" },
  { id: 2, label: "offline" },
];

/** The action type osa-dispatcher treats specially: a picked-up reboot means the system is going away. */
export const REBOOT_ACTION_LABEL = "reboot.reboot";

/** Common rhnActionType rows with Spacewalk's ids, labels and names (its data file has more). */
export const ACTION_TYPES: readonly {
  readonly id: number;
  readonly label: string;
  readonly name: string;
}[] = [
  { id: 1, label: "packages.refresh_list", name: "Package List Refresh" },
  { id: 2, label: "hardware.refresh_list", name: "Hardware List Refresh" },
  { id: 3, label: "packages.update", name: "Package Install" },
  { id: 4, label: "packages.remove", name: "Package Removal" },
  { id: 5, label: "errata.update", name: "Errata Update" },
  { id: 6, label: "up2date_config.get", name: "Get server up2date config" },
  { id: 7, label: "up2date_config.update", name: "Update server up2date config" },
  {
    id: 8,
    label: "packages.delta",
    name: "Package installation and removal in one RPM transaction",
  },
  { id: 9, label: "reboot.reboot", name: "System reboot" },
  { id: 13, label: "packages.autoupdate", name: "Automatic package installation" },
  { id: 14, label: "packages.runTransaction", name: "Package Synchronization" },
  { id: 15, label: "configfiles.upload", name: "Upload config file data to server" },
  { id: 16, label: "configfiles.deploy", name: "Deploy config files to system" },
  { id: 17, label: "configfiles.verify", name: "Verify deployed config files" },
  {
    id: 18,
    label: "configfiles.diff",
    name: "Show differences between profiled config files and deployed config files",
  },
  { id: 30, label: "script.run", name: "Run an arbitrary script" },
  { id: 32, label: "rhnsd.configure", name: "Spacewalk Daemon Configuration" },
  { id: 33, label: "packages.verify", name: "Verify deployed packages" },
];

/** Name of the knex bookkeeping table; its presence marks a database whose schema osad2 created. */
export const MIGRATIONS_TABLE = "osad2_knex_migrations";
