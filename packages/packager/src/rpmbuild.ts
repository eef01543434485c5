import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describeSystemError } from "@osad2/service-kit";
import { PackagerError, RpmBuildError, RpmbuildMissingError } from "./errors.js";

/** Longest rpmbuild run we wait for; a client package takes about a second. */
export const RPMBUILD_TIMEOUT_MS = 5 * 60_000;
/** How much of rpmbuild's output an {@link RpmBuildError} keeps. */
const MAX_OUTPUT_CHARS = 16_000;

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `program` (a path, or a name looked up on PATH); {@link RpmbuildMissingError} when absent. */
export async function resolveRpmbuild(program: string): Promise<string> {
  if (program.includes("/")) {
    if (await isExecutable(program)) return program;
    throw new RpmbuildMissingError(program);
  }
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir.length > 0);
  // Spacewalk hosts and Debian's rpm package install it here even when PATH is minimal (cron, systemd).
  for (const dir of [...dirs, "/usr/bin"]) {
    const candidate = join(dir, program);
    if (await isExecutable(candidate)) return candidate;
  }
  throw new RpmbuildMissingError(program);
}

/**
 * Builds the binary RPM of `specPath` inside the private `topdir` (rpmbuild's scratch files go to
 * `topdir/tmp`, not /var/tmp, and its database to `topdir/rpmdb`, not ~/.rpmdb), for the `target`
 * architecture when given. Resolves when rpmbuild exits 0; otherwise {@link RpmBuildError} with its output.
 */
export async function runRpmbuild(
  rpmbuild: string,
  specPath: string,
  topdir: string,
  target?: string,
): Promise<void> {
  const tmp = join(topdir, "tmp");
  await mkdir(tmp, { recursive: true });
  const args = [
    "-bb",
    "--quiet",
    "--define",
    `_topdir ${topdir}`,
    "--define",
    `_tmppath ${tmp}`,
    // Debian's rpm keeps its database in ~/.rpmdb and rpmbuild would create one there; nothing needs it.
    "--define",
    `_dbpath ${join(topdir, "rpmdb")}`,
    ...(target === undefined ? [] : ["--target", target]),
    specPath,
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(rpmbuild, args, {
      cwd: topdir,
      env: { ...process.env, LC_ALL: "C" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: RPMBUILD_TIMEOUT_MS,
    });
    let output = "";
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-MAX_OUTPUT_CHARS);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT" ? new RpmbuildMissingError(rpmbuild, { cause: error }) : error,
      );
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new RpmBuildError(specPath, code, signal ? `${output}\nkilled by ${signal}` : output),
        );
    });
  });
}

/** A private rpmbuild topdir (SOURCES/root, SPECS, BUILD, RPMS, SRPMS) in `base` (default os.tmpdir()). */
export async function makeTopdir(base: string = tmpdir()): Promise<string> {
  try {
    const topdir = await mkdtemp(join(base, "osad2-packager-"));
    for (const dir of ["SOURCES/root", "SPECS", "BUILD", "RPMS", "SRPMS"])
      await mkdir(join(topdir, dir), { recursive: true });
    return topdir;
  } catch (error) {
    throw new PackagerError(
      `cannot create a temporary directory in ${base}: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
}
