import { execFile } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
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
