import { PackagerError } from "./errors.js";

/** Where the client RPM installs things (the layout @osad2/client's defaults expect). */
export const CLIENT_PATHS = {
  libDir: "/usr/lib/osad2-client",
  bin: "/usr/bin/osad2-client",
  configDir: "/etc/rhn/osad2-client",
  config: "/etc/rhn/osad2-client/osad_client.cfg",
  certsDir: "/etc/rhn/osad2-client/certs",
  secretKey: "/etc/rhn/osad2-client/certs/client.key_secret",
  serverKey: "/etc/rhn/osad2-client/certs/server.key",
  unit: "/usr/lib/systemd/system/osad2-client.service",
  unitName: "osad2-client.service",
  dropInDir: "/usr/lib/systemd/system/osad2-client.service.d",
  /** Pins ExecStart to {@link CLIENT_PATHS.bin} (the unit's `/usr/bin/env osad2-client` would take PATH's first). */
  dropIn: "/usr/lib/systemd/system/osad2-client.service.d/osad2-rpm.conf",
  /** Enables the unit through `systemctl preset`, which %systemd_post runs (sorts before distributions' 99-default-disable). */
  preset: "/usr/lib/systemd/system-preset/80-osad2-client.preset",
  /** rhn_check reports this directory's files as capabilities (classic osad ships `osad` there). */
  clientCaps: "/etc/sysconfig/rhn/clientCaps.d/osad2",
} as const;

/** What a generated client file is for. */
export interface ClientFileContext {
  readonly name: string;
  /** `server_host`; undefined leaves it commented out (the registration reply decides). */
  readonly serverHost: string | undefined;
  readonly created: Date;
}

/**
 * The `[osad]` keys the packager sets for each system; every other key stays commented out at
 * its default. `server_host` only when asked for (`--server-host`, `--proxy`): set, it wins over
 * register_osad's endpoints, which list every failover server.
 */
export function clientConfigValues(context: ClientFileContext): Readonly<Record<string, string>> {
  return {
    ...(context.serverHost === undefined ? {} : { server_host: context.serverHost }),
    certificates: CLIENT_PATHS.certsDir,
    server_public_key: CLIENT_PATHS.serverKey,
    client_secret_key: CLIENT_PATHS.secretKey,
  };
}

/**
 * `/etc/rhn/osad2-client/osad_client.cfg`: @osad2/client's template with this system's values
 * set on the template's own `;key = default` lines, under a header saying who wrote it.
 * @throws {PackagerError} when the template lacks a line for one of those keys.
 */
export function renderClientConfig(template: string, context: ClientFileContext): string {
  let text = template;
  for (const [key, value] of Object.entries(clientConfigValues(context))) {
    const line = new RegExp(`^;${key} =.*$`, "m");
    if (!line.test(text)) {
      throw new PackagerError(
        `the client's config template has no ";${key} =" line; rebuild with a matching @osad2/client`,
      );
    }
    text = text.replace(line, `${key} = ${value}`);
  }
  return `# Written for system "${context.name}" by osad2-packager createclient on ${context.created.toISOString()}.
${text}`;
}

/** The interpreter every packaged script names: nodejs on EL, Fedora and SUSE installs it there. */
export const NODE_BINARY = "/usr/bin/node";

/**
 * `/usr/bin/<program>`: a wrapper rather than a symlink, so it does not depend on the entry
 * point's mode or shebang, and names node by its path, not whatever `node` is first on PATH.
 */
export function renderWrapper(entryPoint: string = `${CLIENT_PATHS.libDir}/cli.js`): string {
  return `#!/bin/sh
exec ${NODE_BINARY} ${entryPoint} "$@"
`;
}
