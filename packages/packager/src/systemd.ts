/**
 * The systemd scriptlets of both RPMs: the distributions' own `%systemd_*` macros (systemd-rpm-macros
 * on EL, Fedora and SUSE), so a unit is enabled through `systemctl preset`, which works offline
 * (kickstart %post, image builds, `rpm --root`) instead of only when systemd is running.
 */

/**
 * Definitions used only where rpmbuild has no `%systemd_*` macros (Debian's rpm, minimal build
 * roots): the same logic as systemd 239's macros.systemd (EL 8), so a package built anywhere
 * behaves as one built on EL. `%{!?name:1}` rather than `%{undefined name}`, which rpm 4.14 lacks.
 */
export const SYSTEMD_MACRO_FALLBACKS = `# systemd-rpm-macros' scriptlets, defined here only where rpmbuild lacks them (Debian's rpm).
%if 0%{!?systemd_post:1}
%define systemd_post() \\
if [ $1 -eq 1 ]; then \\
  # Initial installation: enable as the preset policy says (works without a running systemd). \\
  systemctl --no-reload preset %{?*} >/dev/null 2>&1 || : \\
fi \\
%{nil}
%endif
%if 0%{!?systemd_preun:1}
%define systemd_preun() \\
if [ $1 -eq 0 ]; then \\
  # Removal, not upgrade: stop and disable. \\
  systemctl --no-reload disable --now %{?*} >/dev/null 2>&1 || : \\
fi \\
%{nil}
%endif
%if 0%{!?systemd_postun_with_restart:1}
%define systemd_postun_with_restart() \\
if [ $1 -ge 1 ]; then \\
  # Upgrade: restart what runs, so the new version (or new keys) takes effect. \\
  systemctl try-restart %{?*} >/dev/null 2>&1 || : \\
fi \\
%{nil}
%endif
`;

/** How a package's unit is handled beyond the macros. */
export interface UnitScriptletOptions {
  /** The unit, e.g. `osad2-client.service`. */
  readonly unit: string;
  /**
   * Also start the unit on first installation when the preset enabled it. systemctl ignores the
   * start in a chroot or without a running systemd, so kickstart and image builds are unaffected.
   */
  readonly startWhenEnabled: boolean;
}

/** `%post`, `%preun` and `%postun` of a package with one systemd unit. */
export function unitScriptlets(options: UnitScriptletOptions): string {
  const start = options.startWhenEnabled
    ? `# A system that installs its own client RPM (rhn_check, dnf) is reachable at once, not after a reboot.
if [ $1 -eq 1 ] && systemctl --quiet is-enabled ${options.unit} 2>/dev/null; then
  systemctl start ${options.unit} >/dev/null 2>&1 || :
fi
`
    : "";
  return `%post
%systemd_post ${options.unit}
${start}
%preun
%systemd_preun ${options.unit}

%postun
%systemd_postun_with_restart ${options.unit}
`;
}

/** A preset file (`/usr/lib/systemd/system-preset/…`) enabling `unit`. */
export function renderPreset(unit: string, why: string): string {
  return `# ${why}
enable ${unit}
`;
}

/**
 * A drop-in that pins the unit's ExecStart to the RPM's own binary: the unit's
 * `/usr/bin/env <binary>` would run whichever copy comes first on systemd's PATH (an npm -g install
 * in /usr/local/bin before the RPM's /usr/bin). `extra` lines go into [Service] too.
 */
export function renderDropIn(execStart: string, extra: readonly string[] = []): string {
  return `# Installed by the RPM: run the packaged binary, not whatever is first on PATH.
[Service]
${extra.map((line) => `${line}\n`).join("")}ExecStart=
ExecStart=${execStart}
`;
}
