import { createServerKeyPair, KeyExistsError, readPublicKey, certificateLayout } from "@osad2/keys";
import { openStore, redact } from "../../db/index.js";
import type { CliInvocation } from "../args.js";
import { loadCliConfig } from "./load-config.js";

/** What `osad2-server init` did (printed as JSON). */
export interface InitReport {
  readonly database: string;
  /** "created": the standalone schema osad2 manages; "existing": a Spacewalk schema, left untouched. */
  readonly schema: "created" | "existing";
  readonly migrationsApplied: readonly string[];
  /** PostgreSQL: the NOTIFY trigger on rhnServerAction is installed (false on SQLite, which has none). */
  readonly notifyTrigger: boolean;
  readonly keys: {
    readonly created: boolean;
    readonly serverPublicKey: string;
    readonly serverPublicPath: string;
  };
}

/**
 * `osad2-server init`: migrate the standalone schema (never alters Spacewalk's tables), install
 * the PostgreSQL NOTIFY trigger unless `--no-notify-trigger` (an existing one stays), and create
 * the server keys if missing.
 */
export async function initCommand(invocation: CliInvocation): Promise<InitReport> {
  const config = await loadCliConfig(invocation);
  const store = await openStore(
    config.database,
    config.databaseSchema === "" ? {} : { schema: config.databaseSchema },
  );
  let prepared;
  try {
    prepared = await store.prepare({ notifyTrigger: invocation.notifyTrigger });
  } finally {
    await store.close();
  }
  const layout = certificateLayout(config.certificates);
  let created = true;
  try {
    await createServerKeyPair(config.certificates);
  } catch (error) {
    if (!(error instanceof KeyExistsError)) throw error;
    created = false;
  }
  return {
    database: redact(config.database),
    schema: prepared.schema,
    migrationsApplied: prepared.applied,
    notifyTrigger: prepared.notifyTrigger,
    keys: {
      created,
      serverPublicKey: await readPublicKey(layout.serverPublicPath),
      serverPublicPath: layout.serverPublicPath,
    },
  };
}
