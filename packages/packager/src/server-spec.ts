import { SERVER_PATHS, SERVER_USER, renderCreateUser } from "./server-files.js";
import {
  bundledProvides,
  changelogDate,
  specPreamble,
  wrapDescription,
  type BundledComponent,
  type LibcNeeds,
} from "./spec-common.js";
import { SYSTEMD_MACRO_FALLBACKS, unitScriptlets } from "./systemd.js";

/** The server RPM's name. */
export const SERVER_RPM_NAME = "osad2-server";
/** Home page written into the server RPM's URL tag. */
export const SERVER_PROJECT_URL = "https://www.npmjs.com/package/@osad2/server";

/** What varies between server specs. */
export interface ServerSpecInput {
  /** @osad2/server's version, the RPM's. */
  readonly version: string;
  readonly release: string;
  readonly arch: string;
  readonly license: string;
  readonly bundled: readonly BundledComponent[];
  /** better-sqlite3's addon is built for this Node major version. */
  readonly nodeMajor: number;
  readonly needs: LibcNeeds;
  /** Host the package is built on (Packager and %changelog). */
  readonly buildHost: string;
  readonly created: Date;
  /** `%files` lines of the licence texts, man pages and docs. */
  readonly documentationFiles: string;
}

/** `osad2-server-VERSION-RELEASE.ARCH.rpm`. */
export function serverRpmFileName(
  input: Pick<ServerSpecInput, "version" | "release" | "arch">,
): string {
  return `${SERVER_RPM_NAME}-${input.version}-${input.release}.${input.arch}.rpm`;
}

/**
 * The server's Node.js requirement: a range on `nodejs(engine)` (no epoch, see
 * CLIENT_NODE_REQUIREMENT), one major version wide, because better-sqlite3's addon is built
 * against one Node ABI.
 */
export function serverNodeRequirements(nodeMajor: number): readonly string[] {
  return [`nodejs(engine) >= ${String(nodeMajor)}`, `nodejs(engine) < ${String(nodeMajor + 1)}`];
}

/** The oldest EL release whose glibc is at least `glibc` (EL 8: 2.28, EL 9: 2.34, EL 10: 2.39). */
export function oldestEl(glibc: string): string | undefined {
  const [major = 0, minor = 0] = glibc.split(".").map(Number);
  const version = major * 1000 + minor;
  if (version <= 2028) return "EL 8";
  if (version <= 2034) return "EL 9";
  if (version <= 2039) return "EL 10";
  return undefined;
}

/** The spec of the server RPM; %install copies the tree staged in SOURCES/root. */
export function renderServerSpec(input: ServerSpecInput): string {
  const p = SERVER_PATHS;
  const u = SERVER_USER;
  const el = oldestEl(input.needs.glibc);
  return `${SYSTEMD_MACRO_FALLBACKS}
${specPreamble(input.created)}
Name:           ${SERVER_RPM_NAME}
Version:        ${input.version}
Release:        ${input.release}
Summary:        Push server of osad2: tells Spacewalk systems to check in at once
License:        ${input.license}
URL:            ${SERVER_PROJECT_URL}
Group:          System Environment/Daemons
Packager:       osad2-packager <root@${input.buildHost}>
${serverNodeRequirements(input.nodeMajor)
  .map((requirement) => `Requires:       ${requirement}\n`)
  .join("")}Requires:       ${p.setpriv}
Requires(pre):  /usr/bin/getent /usr/sbin/groupadd /usr/sbin/useradd
# Only for log_file (the default logs to the journal).
Recommends:     logrotate
%{?systemd_requires}
${bundledProvides(input.bundled)}
%description
${wrapDescription([
  `osad2-server watches the Spacewalk or Uyuni database and, the moment an action is due, tells that one system over a CURVE-encrypted ZeroMQ connection to run rhn_check. It replaces osa-dispatcher and speaks the wire format of spacewalk-osad2 clients.`,
  `This package holds @osad2/server ${input.version} with its Node.js dependencies, runs it as the ${u} user under ${p.unitName} (disabled until you enable it) and creates the server's CURVE key pair on its first start. Configuration: ${p.config}.`,
  `Needs Node.js ${String(input.nodeMajor)} (its better-sqlite3 addon is built for that ABI) and glibc ${input.needs.glibc} with libstdc++ GLIBCXX_${input.needs.glibcxx} or later${el === undefined ? "" : ` (${el} and later)`}.`,
])}

%install
cp -a %{_sourcedir}/root/. %{buildroot}/

%pre
${renderCreateUser()}
%files
%defattr(-,root,root,0755)
${p.libDir}
%attr(0755,root,root) ${p.bin}
%attr(0644,root,root) ${p.unit}
%dir %attr(0755,root,root) ${p.dropInDir}
%attr(0644,root,root) ${p.dropIn}
%attr(0644,root,root) ${p.sysusers}
%config(noreplace) %attr(0644,root,root) ${p.logrotate}
%attr(0644,root,root) ${p.firewalld}
%attr(0644,root,root) ${p.firewalldProxies}
%dir %attr(0755,root,root) ${p.configDir}
%config(noreplace) %attr(0640,root,${u}) ${p.config}
%dir %attr(0755,${u},${u}) ${p.certsDir}
%dir %attr(0700,${u},${u}) ${p.privateKeysDir}
%dir %attr(0755,${u},${u}) ${p.publicKeysDir}
%dir %attr(0755,${u},${u}) ${p.revokedDir}
%dir %attr(0755,${u},${u}) ${p.retiringDir}
%dir %attr(0755,${u},${u}) ${p.proxiesDir}
%dir %attr(0755,${u},${u}) ${p.stateDir}
%dir %attr(0755,${u},${u}) ${p.logDir}
${input.documentationFiles}
${unitScriptlets({ unit: p.unitName, startWhenEnabled: false })}
%changelog
* ${changelogDate(input.created)} osad2-packager <root@${input.buildHost}> - ${input.version}-${input.release}
- @osad2/server ${input.version}, built by osad2-packager serverrpm
`;
}
