import { PROXY_PATHS } from "./proxy-files.js";
import { changelogDate, packagerHost, specPreamble, wrapDescription } from "./spec-common.js";
import { SYSTEMD_MACRO_FALLBACKS, unitScriptlets } from "./systemd.js";

/** Home page written into the proxy RPM's URL tag. */
export const PROXY_PROJECT_URL = "https://www.npmjs.com/package/@osad2/proxy";

/** What varies between proxy keys specs. */
export interface ProxySpecInput {
  /** The proxy's name; the package is `osad2-proxy-keys-<name>`. */
  readonly name: string;
  readonly version: string;
  readonly release: string;
  /** `host:port` entries of its upstream. */
  readonly upstream: readonly string[];
  /** `server` or `proxy PARENT`. */
  readonly upstreamIs: string;
  readonly created: Date;
  /** `%files` lines of the licence and docs (from stageDocumentation). */
  readonly documentationFiles: string;
}

/** RPM package name of a proxy's keys. */
export function proxyRpmPackageName(proxyName: string): string {
  return `osad2-proxy-keys-${proxyName}`;
}

/** `osad2-proxy-keys-NAME-VERSION-RELEASE.noarch.rpm`, as rpmbuild names it. */
export function proxyRpmFileName(
  input: Pick<ProxySpecInput, "name" | "version" | "release">,
): string {
  return `${proxyRpmPackageName(input.name)}-${input.version}-${input.release}.noarch.rpm`;
}

/**
 * The spec of a proxy's keys package (noarch): keys, config, unit and firewalld services. The
 * unit is not enabled by the package: the proxy program comes from npm, installed separately.
 */
export function renderProxySpec(input: ProxySpecInput): string {
  const p = PROXY_PATHS;
  const builtOn = packagerHost();
  const upstream = input.upstream.join(", ");
  return `${SYSTEMD_MACRO_FALLBACKS}
${specPreamble(input.created)}
Name:           ${proxyRpmPackageName(input.name)}
Version:        ${input.version}
Release:        ${input.release}
Summary:        CURVE keys and osad2-proxy configuration for proxy ${input.name}
License:        GPL-2.0-only
URL:            ${PROXY_PROJECT_URL}
Group:          System Environment/Daemons
Packager:       osad2-packager <root@${builtOn}>
BuildArch:      noarch
Provides:       osad2-proxy-keys = ${input.version}-${input.release}
%{?systemd_requires}

%description
${wrapDescription([
  `The CURVE key pair of osad2 proxy ${input.name}, the public key of its upstream (${input.upstreamIs}, ${upstream}), ${p.config}, the ${p.unitName} unit and firewalld services for its ports: osad2-proxy (5556, from the systems behind it) and osad2-proxy-proxies (5558, from child proxies).`,
  `Install the proxy itself with npm (@osad2/proxy), then enable ${p.unitName}.`,
])}

%install
cp -a %{_sourcedir}/root/. %{buildroot}/

%files
%defattr(-,root,root,0755)
%dir %attr(0755,root,root) ${p.configDir}
%config(noreplace) %attr(0644,root,root) ${p.config}
%dir %attr(0755,root,root) ${p.certsDir}
%dir %attr(0700,root,root) ${p.privateKeysDir}
%attr(0600,root,root) ${p.secretKey}
%dir %attr(0755,root,root) ${p.publicKeysDir}
%attr(0644,root,root) ${p.publicKey}
%attr(0644,root,root) ${p.upstreamKey}
%attr(0644,root,root) ${p.unit}
%attr(0644,root,root) ${p.firewalldSystems}
%attr(0644,root,root) ${p.firewalldProxies}
${input.documentationFiles}
${unitScriptlets({ unit: p.unitName, startWhenEnabled: false })}
%changelog
* ${changelogDate(input.created)} osad2-packager <root@${builtOn}> - ${input.version}-${input.release}
- CURVE keys and configuration for osad2 proxy ${input.name}, upstream ${input.upstreamIs} (${upstream})
`;
}
