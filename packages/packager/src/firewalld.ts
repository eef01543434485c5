/** firewalld service files (`/usr/lib/firewalld/services/NAME.xml`, `firewall-cmd --add-service=NAME`). */

/** One firewalld service: a short name, what it is for, its TCP ports. */
export interface FirewalldService {
  readonly short: string;
  readonly description: string;
  readonly ports: readonly number[];
}

/** Where the RPMs put firewalld services. */
export function firewalldServicePath(short: string): string {
  return `/usr/lib/firewalld/services/${short}.xml`;
}

/** The XML of a firewalld service; the inputs are the packager's own text (no markup in them). */
export function renderFirewalldXml(service: FirewalldService): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<service>
  <short>${service.short}</short>
  <description>${service.description}</description>
${service.ports.map((port) => `  <port protocol="tcp" port="${String(port)}"/>\n`).join("")}</service>
`;
}
