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
  /** rhn_check reports this directory's files as capabilities (classic osad ships `osad` there). */
  clientCaps: "/etc/sysconfig/rhn/clientCaps.d/osad2",
} as const;

/** What a generated client file is for. */
export interface ClientFileContext {
  readonly name: string;
  readonly serverHost: string;
  readonly created: Date;
}

/** The `[osad]` keys the packager sets for each system; every other key stays commented out at its default. */
export function clientConfigValues(context: ClientFileContext): Readonly<Record<string, string>> {
  return {
    server_host: context.serverHost,
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

/** `/usr/bin/osad2-client`: a wrapper rather than a symlink, so it does not depend on cli.js's mode or shebang. */
export function renderWrapper(): string {
  return `#!/bin/sh
exec node ${CLIENT_PATHS.libDir}/cli.js "$@"
`;
}
