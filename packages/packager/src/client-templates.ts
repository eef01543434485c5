import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ClientBundleError } from "./errors.js";

/**
 * The files @osad2/client owns that its RPM installs: its systemd unit, its config template
 * (every key commented out at its default) and its clientCaps.d file. scripts/bundle-client.mjs
 * copies them from the built @osad2/client into dist/client-files/, so they exist once, in the
 * client package.
 */
export interface ClientTemplates {
  /** `osad2-client.service`, installed as is. */
  readonly unit: string;
  /** `osad_client.cfg` with `;key = default` lines the packager fills in. */
  readonly config: string;
  /** `clientCaps.d/osad2` (osad.ping, osad.rhn_check), installed as is. */
  readonly clientCaps: string;
  /** The directory they were read from, which also holds osad2's LICENSE. */
  readonly dir: string;
}

/** File names inside dist/client-files/ (@osad2/client's dist/clientCaps.d/osad2 is clientCaps-osad2). */
export const CLIENT_TEMPLATE_FILES = {
  unit: "osad2-client.service",
  config: "osad_client.cfg",
  clientCaps: "clientCaps-osad2",
  /** osad2's LICENSE, the one licence text of a keys-only package. */
  license: "LICENSE",
  /** @osad2/client's README, a keys-only package's %doc. */
  readme: "README.md",
} as const;

/** dist/client-files seen from the built dist/*.js and from src/*.ts (tests run the sources). */
function defaultCandidates(): string[] {
  return [
    fileURLToPath(new URL("./client-files/", import.meta.url)),
    fileURLToPath(new URL("../dist/client-files/", import.meta.url)),
  ];
}

/** Reads the client's unit and config template from the packager's build; `dir` overrides the search. */
export async function loadClientTemplates(dir?: string): Promise<ClientTemplates> {
  const candidates = dir === undefined ? defaultCandidates() : [dir];
  for (const candidate of candidates) {
    try {
      const [unit, config, clientCaps] = await Promise.all([
        readFile(join(candidate, CLIENT_TEMPLATE_FILES.unit), "utf8"),
        readFile(join(candidate, CLIENT_TEMPLATE_FILES.config), "utf8"),
        readFile(join(candidate, CLIENT_TEMPLATE_FILES.clientCaps), "utf8"),
        readFile(join(candidate, CLIENT_TEMPLATE_FILES.license), "utf8"),
      ]);
      return { unit, config, clientCaps, dir: candidate };
    } catch {
      // not built here: try the next place
    }
  }
  throw new ClientBundleError(
    candidates[0] ?? "client-files",
    `is missing the client's ${CLIENT_TEMPLATE_FILES.unit}, ${CLIENT_TEMPLATE_FILES.config}, ${CLIENT_TEMPLATE_FILES.clientCaps} or ${CLIENT_TEMPLATE_FILES.license}`,
  );
}
