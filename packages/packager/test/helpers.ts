import { execFile } from "node:child_process";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI (vitest runs after the package's build). */
export const PACKAGER_CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
/** The built client bundle. */
export const CLIENT_BUNDLE = fileURLToPath(new URL("../dist/client-bundle/", import.meta.url));

/** Unprivileged identity for tests that need permissions to bite (root ignores mode bits). */
export const NOBODY = { uid: 65534, gid: 65534 };
export const isRoot = process.getuid?.() === 0;

/** Temp directories made by a test file, removed in afterEach/afterAll. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = "osad2-packager-test-"): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** Removes every directory, first making read-only ones (from permission tests) writable again. */
  async removeAll(): Promise<void> {
    await Promise.all(
      this.dirs.splice(0).map(async (dir) => {
        await makeDirectoriesWritable(dir);
        await rm(dir, { recursive: true, force: true });
      }),
    );
  }
}

/** The environment children get: nx sets FORCE_COLOR, which would colour what they print. */
export function plainEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _forceColor, ...rest } = env;
  return rest;
}

async function makeDirectoriesWritable(dir: string): Promise<void> {
  try {
    await chmod(dir, 0o755);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await makeDirectoriesWritable(join(dir, entry.name));
    }
  } catch {
    // Already gone or not ours: rm reports what really matters.
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion; never throws for a non-zero exit. */
export function run(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      [...args],
      {
        cwd: options.cwd,
        env: plainEnv(options.env),
        maxBuffer: 32 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(error);
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** `node dist/cli.js …`. */
export function runPackager(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return run(process.execPath, [PACKAGER_CLI, ...args], options);
}

/** `createclient SELECT… --keys-only --certificates CERTIFICATES --out OUT` (SELECT: `--name N` or `--names-from F`). */
export function keysOnlyArgs(
  select: readonly string[],
  certificates: string,
  out: string,
): string[] {
  return ["createclient", ...select, "--keys-only", "--certificates", certificates, "--out", out];
}

/**
 * nobody must reach the CLI: a checkout under a 0700 directory (mktemp -d) would otherwise fail
 * these tests with a bare MODULE_NOT_FOUND instead of saying why.
 */
async function assertReadableByOthers(file: string): Promise<void> {
  if (((await stat(file)).mode & 0o004) === 0) {
    throw new Error(`${file} is not readable by others; the unprivileged tests run it as nobody`);
  }
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw new Error(
        `${dir} is not searchable by others (mode ${((await stat(dir)).mode & 0o777).toString(8)}), so nobody cannot run ${file}; clone into a directory others may enter (chmod o+x ${dir})`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

/**
 * Runs the packager CLI as an unprivileged user (setpriv to nobody when the tests run as root), so
 * directory modes are enforced.
 */
export async function runPackagerUnprivileged(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<RunResult> {
  if (!isRoot) return runPackager(args, { env });
  await assertReadableByOthers(PACKAGER_CLI);
  return run(
    "setpriv",
    [
      `--reuid=${NOBODY.uid}`,
      `--regid=${NOBODY.gid}`,
      "--clear-groups",
      process.execPath,
      PACKAGER_CLI,
      ...args,
    ],
    { env },
  );
}

/**
 * `rpm -i` (`-U` with `upgrade`) of a package into a scratch root with its own rpm database,
 * without dependencies or scriptlets; makes the root if missing. Never throws for a failed rpm.
 */
export async function rpmInstall(
  root: string,
  rpmPath: string,
  options: { upgrade?: boolean; ignoreArch?: boolean } = {},
): Promise<RunResult> {
  await mkdir(root, { recursive: true });
  return run("rpm", [
    options.upgrade === true ? "-U" : "-i",
    "--root",
    root,
    "--dbpath",
    "/var/lib/rpm",
    "--nodeps",
    "--noscripts",
    ...(options.ignoreArch === true ? ["--ignorearch"] : []),
    rpmPath,
  ]);
}

/** Every path below `dir` with its type and mode, sorted: compare before/after to prove nothing was written. */
export async function listTree(dir: string): Promise<string[]> {
  const entries: string[] = [];
  async function walk(current: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const name of names) {
      const path = join(current, name);
      const info = await lstat(path);
      entries.push(
        `${relative(dir, path)} ${info.isDirectory() ? "d" : "f"}${(info.mode & 0o7777).toString(8)} ${info.size}`,
      );
      if (info.isDirectory()) await walk(path);
    }
  }
  await walk(dir);
  return entries.sort();
}

/** The repository's LICENSE, which every RPM must carry. */
export const PROJECT_LICENSE = fileURLToPath(new URL("../../../LICENSE", import.meta.url));
/** The committed rpmlint filters. */
export const RPMLINTRC = fileURLToPath(new URL("../rpmlintrc", import.meta.url));
/** The packager README, which must justify every rpmlint warning left. */
export const PACKAGER_README = fileURLToPath(new URL("../README.md", import.meta.url));

/** A tiny noarch RPM for dependency tests. */
export interface TinyRpm {
  readonly name: string;
  readonly epoch?: number;
  readonly version: string;
  readonly provides?: readonly string[];
  readonly requires?: readonly string[];
  /** Also install an executable /usr/bin/node. */
  readonly node?: boolean;
}

/** Builds a {@link TinyRpm} with rpmbuild in a fresh directory below `dir`; returns its path. */
export async function buildTinyRpm(dir: string, rpm: TinyRpm): Promise<string> {
  const topdir = await mkdtemp(join(dir, `${rpm.name}-`));
  const spec = join(topdir, `${rpm.name}.spec`);
  const tags = [
    ...(rpm.epoch === undefined ? [] : [`Epoch: ${rpm.epoch}`]),
    ...(rpm.provides ?? []).map((p) => `Provides: ${p}`),
    ...(rpm.requires ?? []).map((r) => `Requires: ${r}`),
  ];
  await writeFile(
    spec,
    `Name: ${rpm.name}
Version: ${rpm.version}
Release: 1
Summary: Test package
License: MIT
BuildArch: noarch
${tags.join("\n")}
%description
Test package.
%install
mkdir -p %{buildroot}/usr/bin
${rpm.node === true ? "printf '#!/bin/sh\\n' > %{buildroot}/usr/bin/node; chmod 0755 %{buildroot}/usr/bin/node" : ""}
%files
${rpm.node === true ? "/usr/bin/node" : ""}
`,
  );
  const built = await run("rpmbuild", [
    "-bb",
    "--quiet",
    "--define",
    `_topdir ${topdir}`,
    "--define",
    `_dbpath ${join(topdir, "rpmdb")}`,
    spec,
  ]);
  if (built.code !== 0) throw new Error(`rpmbuild of ${rpm.name} failed: ${built.stderr}`);
  return join(topdir, "RPMS", "noarch", `${rpm.name}-${rpm.version}-1.noarch.rpm`);
}

/**
 * A stand-in for a distribution's nodejs package: Name nodejs, the given Epoch and Version, and
 * what every real one of EL, Fedora and SUSE provides: `nodejs(engine) = <version>` (without the
 * epoch) and the file /usr/bin/node.
 */
export function buildFakeNodejs(dir: string, epoch: number, version: string): Promise<string> {
  return buildTinyRpm(dir, {
    name: "nodejs",
    epoch,
    version,
    provides: [`nodejs(engine) = ${version}`],
    node: true,
  });
}

/**
 * The dependencies `rpm -i --test` reports missing for `rpmPath` in `root` (`X is needed by Y`
 * lines, as `X`), with whatever is installed there.
 */
export async function unmetDependencies(root: string, rpmPath: string): Promise<string[]> {
  const result = await run("rpm", [
    "-i",
    "--test",
    "--root",
    root,
    "--dbpath",
    "/var/lib/rpm",
    rpmPath,
  ]);
  return [...result.stderr.matchAll(/^\s+(.+?) is needed by /gm)].map((match) => match[1] ?? "");
}

/**
 * Runs an RPM scriptlet (`rpm -qp --qf %{POSTIN}` text) with `$1 = arg` the way it runs in a
 * kickstart %post or an image build: no systemd running. `systemctl` is a shim that records each
 * call and applies it to `root` with the real `systemctl --root` (which changes unit files only:
 * verbs that need a running systemd, and --now, are recorded and dropped, as systemctl itself
 * ignores them in a chroot). Returns the calls.
 */
export async function runScriptlet(
  script: string,
  arg: number,
  root: string,
  workDir: string,
): Promise<string[]> {
  const bin = await mkdtemp(join(workDir, "shim-"));
  const log = join(bin, "calls.log");
  await writeFile(
    join(bin, "systemctl"),
    `#!/bin/sh
echo "$*" >> "${log}"
args=""
for a in "$@"; do
  case "$a" in
    start|stop|restart|try-restart|reload|daemon-reload) exit 0 ;;
    --now) ;;
    *) args="$args $a" ;;
  esac
done
exec /usr/bin/systemctl --root="${root}" $args
`,
    { mode: 0o755 },
  );
  await writeFile(log, "");
  const result = await run("/bin/sh", ["-c", script, "scriptlet", String(arg)], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` },
  });
  if (result.code !== 0) throw new Error(`scriptlet exited ${result.code}: ${result.stderr}`);
  return (await readFile(log, "utf8")).split("\n").filter((line) => line.length > 0);
}

/** Every regular file below `root` whose first line is a shebang, with that line. */
export async function shebangs(root: string): Promise<Array<{ path: string; line: string }>> {
  const found: Array<{ path: string; line: string }> = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const head = (await readFile(path)).subarray(0, 200).toString("latin1");
        if (head.startsWith("#!")) found.push({ path, line: head.split("\n", 1)[0] ?? "" });
      }
    }
  }
  await walk(root);
  return found;
}

/** One rpmlint run over `rpms` with the committed rpmlintrc: its findings by severity. */
export async function rpmlint(
  rpms: readonly string[],
): Promise<{ code: number; errors: string[]; warnings: string[]; output: string }> {
  const result = await run("rpmlint", ["-r", RPMLINTRC, ...rpms]);
  const lines = result.stdout.split("\n");
  return {
    code: result.code,
    errors: lines.filter((line) => / E: /.test(line)),
    warnings: lines.filter((line) => / W: /.test(line)),
    output: result.stdout + result.stderr,
  };
}
