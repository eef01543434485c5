import { CLIENT_PATHS } from "./client-files.js";
import { PROJECT_URL } from "./constants.js";
import {
  bundledProvides,
  changelogDate,
  packagerHost,
  specPreamble,
  wrapDescription,
  type BundledComponent,
  type LibcNeeds,
} from "./spec-common.js";
import { SYSTEMD_MACRO_FALLBACKS, unitScriptlets } from "./systemd.js";

export { changelogDate } from "./spec-common.js";

/**
 * The client RPM's Node.js dependency. RHEL's and Fedora's nodejs carries Epoch 1, so a plain
 * `nodejs >= 20` (epoch 0) is met by nodejs 1:16 too; `nodejs(engine)`, which every nodejs package
 * of EL, Fedora and SUSE provides as its upstream version without an epoch, is not.
 */
export const CLIENT_NODE_REQUIREMENT = "nodejs(engine) >= 20";

/** The client's supported systems, as far as its zeromq addon (glibc 2.25, GCC 7's libstdc++) and Node 20 reach. */
export const CLIENT_SUPPORTED_SYSTEMS =
  "EL 8, 9 and 10 (RHEL, CentOS Stream, Rocky, AlmaLinux, Oracle Linux), Fedora, SLES and openSUSE Leap 15, Amazon Linux 2023";

/** What a full client package bundles; absent for keys-only packages. */
export interface ClientSpecBundle {
  /** Version of @osad2/client. */
  readonly clientVersion: string;
  /** License tag: GPL-2.0-only AND every bundled licence. */
  readonly license: string;
  readonly bundled: readonly BundledComponent[];
  /** What the addon of the target architecture needs. */
  readonly needs: LibcNeeds;
}

/** Everything that varies between generated spec files. */
export interface SpecInput {
  /** Client (system) name; the package is `osad2-client-<name>`. */
  readonly name: string;
  readonly version: string;
  readonly release: string;
  /** `x86_64`, `aarch64` or `noarch` (keys only). */
  readonly arch: string;
  readonly keysOnly: boolean;
  /** `server_host` written to the config; undefined = none (register_osad's endpoints). */
  readonly serverHost: string | undefined;
  /** The proxy the system connects through, if any. */
  readonly proxy?: string | undefined;
  readonly created: Date;
  /** The bundled client, for a full package. */
  readonly bundle?: ClientSpecBundle;
  /** `%files` lines of the licence texts, man pages and docs (from stageDocumentation). */
  readonly documentationFiles: string;
}

/** The `rpmbuild --target` for a package: its architecture, or none for noarch (BuildArch says it). */
export function rpmbuildTarget(arch: string): string | undefined {
  return arch === "noarch" ? undefined : arch;
}

/** RPM package name for a client. */
export function rpmPackageName(clientName: string): string {
  return `osad2-client-${clientName}`;
}

/** `osad2-client-NAME-VERSION-RELEASE.ARCH.rpm`, as rpmbuild names it. */
export function rpmFileName(
  input: Pick<SpecInput, "name" | "version" | "release" | "arch">,
): string {
  return `${rpmPackageName(input.name)}-${input.version}-${input.release}.${input.arch}.rpm`;
}

/** Where the system connects, for the description and %changelog. */
export function describeUpstream(input: Pick<SpecInput, "serverHost" | "proxy">): string {
  if (input.proxy !== undefined)
    return `proxy ${input.proxy}${input.serverHost === undefined ? "" : ` (${input.serverHost})`}`;
  if (input.serverHost !== undefined) return `server ${input.serverHost}`;
  return "the servers its registration names";
}

/**
 * The spec rpmbuild builds from; %install copies the tree staged in SOURCES/root. The inputs are
 * validated before (names, hosts and releases cannot contain spec syntax such as `%` or newlines).
 */
export function renderSpec(input: SpecInput): string {
  const p = CLIENT_PATHS;
  const builtOn = packagerHost();
  const upstream = describeUpstream(input);
  const header = `${specPreamble(input.created)}
Name:           ${rpmPackageName(input.name)}
Version:        ${input.version}
Release:        ${input.release}
License:        ${input.bundle?.license ?? "GPL-2.0-only"}
URL:            ${PROJECT_URL}
Group:          System Environment/Daemons
Packager:       osad2-packager <root@${builtOn}>
${
  // An architecture-specific package gets its arch from rpmbuild --target (BuildArch would refuse a
  // foreign one, e.g. aarch64 on an x86_64 host); see rpmbuildTarget().
  input.arch === "noarch" ? "BuildArch:      noarch\n" : ""
}`;
  const keyFiles = `%dir %attr(0755,root,root) ${p.configDir}
%config(noreplace) %attr(0644,root,root) ${p.config}
%dir %attr(0700,root,root) ${p.certsDir}
%attr(0600,root,root) ${p.secretKey}
%attr(0644,root,root) ${p.serverKey}
%config(noreplace) %attr(0644,root,root) ${p.clientCaps}
`;
  const changelog = `%changelog
* ${changelogDate(input.created)} osad2-packager <root@${builtOn}> - ${input.version}-${input.release}
- ${input.keysOnly ? "CURVE keys and configuration" : "osad2 client, CURVE keys and configuration"} for system ${input.name}, ${upstream}
`;

  if (input.keysOnly || input.bundle === undefined) {
    return `${header}Summary:        CURVE keys and osad2 client configuration for system ${input.name}
Provides:       osad2-client-keys = ${input.version}-${input.release}

%description
${wrapDescription([
  `The CURVE key pair of system ${input.name}, the public key of the osad2 ${input.proxy === undefined ? "server" : "proxy"} it connects to and the osad2 client configuration (${upstream}), for a system that runs @osad2/client installed from npm.`,
])}

%install
cp -a %{_sourcedir}/root/. %{buildroot}/

%files
%defattr(-,root,root,0755)
${keyFiles}${input.documentationFiles}
${changelog}`;
  }

  const bundle = input.bundle;
  return `${SYSTEMD_MACRO_FALLBACKS}
${header}Summary:        Push client of osad2 for Spacewalk/Uyuni, with the keys of system ${input.name}
Requires:       ${CLIENT_NODE_REQUIREMENT}
%{?systemd_requires}
Provides:       osad2-client = ${input.version}-${input.release}
${bundledProvides(bundle.bundled)}
%description
${wrapDescription([
  `osad2 tells this system to run rhn_check the moment Spacewalk or Uyuni has work for it, over a CURVE-encrypted ZeroMQ connection to the osad2 server (${upstream}). This package holds @osad2/client ${bundle.clientVersion}, the key pair of system ${input.name}, the ${input.proxy === undefined ? "server's" : "proxy's"} public key, the client configuration and the ${p.unitName} unit, enabled by its preset.`,
  `Runs on Node.js 20 or later with glibc ${bundle.needs.glibc} and libstdc++ GLIBCXX_${bundle.needs.glibcxx} or later: ${CLIENT_SUPPORTED_SYSTEMS}.`,
])}

%install
cp -a %{_sourcedir}/root/. %{buildroot}/

%files
%defattr(-,root,root,0755)
${p.libDir}
%attr(0755,root,root) ${p.bin}
%attr(0644,root,root) ${p.unit}
%dir %attr(0755,root,root) ${p.dropInDir}
%attr(0644,root,root) ${p.dropIn}
%attr(0644,root,root) ${p.preset}
${keyFiles}${input.documentationFiles}
${unitScriptlets({ unit: p.unitName, startWhenEnabled: true })}
${changelog}`;
}
