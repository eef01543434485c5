// File-tree fix-ups every bundled tree gets before it goes into an RPM, as Fedora's
// brp-mangle-shebangs does: `#!/usr/bin/env node` names no interpreter rpm can depend on (and may
// run whatever `node` comes first on PATH), so it becomes `#!/usr/bin/node`; files get modes that
// match what they are, whatever npm or the umask gave them.
import { Buffer } from "node:buffer";
import { chmod, lstat, open, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Interpreter paths for `#!/usr/bin/env NAME`; anything else is refused rather than guessed. */
const INTERPRETERS: Readonly<Record<string, string>> = {
  node: "/usr/bin/node",
  sh: "/bin/sh",
  bash: "/bin/bash",
};
const ELF_MAGIC = "\x7fELF";

/** Every regular file below `dir`, depth first. */
export async function* walkFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(path);
    else if (entry.isFile()) yield path;
  }
}

async function head(path: string): Promise<string> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString("latin1");
  } finally {
    await handle.close();
  }
}

/**
 * Rewrites `#!/usr/bin/env X` shebangs below `dir` to X's absolute path; scripts with a shebang
 * and ELF files keep an executable bit if they had one (0755), everything else becomes 0644.
 * Returns the number of shebangs rewritten.
 */
export async function fixTree(dir: string): Promise<number> {
  let rewritten = 0;
  for await (const path of walkFiles(dir)) {
    const start = await head(path);
    const executable = ((await lstat(path)).mode & 0o100) !== 0;
    if (start.startsWith("#!")) {
      const line = start.split("\n", 1)[0] ?? "";
      const env = /^#!\s*\/usr\/bin\/env\s+(?:-S\s+)?(\S+)(.*)$/.exec(line);
      if (env) {
        const interpreter = INTERPRETERS[env[1] ?? ""];
        if (interpreter === undefined) throw new Error(`${path}: no known path for ${line}`);
        const text = await readFile(path, "utf8");
        await writeFile(path, `#!${interpreter}${env[2] ?? ""}${text.slice(line.length)}`);
        rewritten += 1;
      }
      // A shebang in a module that is only imported is harmless: only scripts stay executable.
      await chmod(path, executable ? 0o755 : 0o644);
    } else if (start.startsWith(ELF_MAGIC)) {
      await chmod(path, executable ? 0o755 : 0o644);
    } else {
      await chmod(path, 0o644);
    }
  }
  return rewritten;
}
