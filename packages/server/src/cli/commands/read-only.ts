import { access } from "node:fs/promises";
import { certificateLayout } from "@osad2/keys";
import { parseDatabaseUrl } from "../../db/index.js";

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * What status, doctor and systems would have to create to look at (opening a SQLite file or
 * the key store makes the missing parts): they only read, so they report them missing instead.
 */
export async function missingForReading(
  databaseUrl: string,
  certificates: string,
): Promise<{ database?: string; keys?: string }> {
  const found: { database?: string; keys?: string } = {};
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === "sqlite" && target.filename !== ":memory:") {
    if (!(await exists(target.filename))) {
      found.database = `${target.filename} does not exist: run osad2-server init`;
    }
  }
  const layout = certificateLayout(certificates);
  for (const dir of [layout.publicKeysDir, layout.revokedDir]) {
    if (!(await exists(dir))) {
      found.keys = `${dir} does not exist: run osad2-server init`;
      break;
    }
  }
  return found;
}
