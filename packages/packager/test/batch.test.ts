import { KeyStore } from "@osad2/keys";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PACKAGER_VERSION, createServerKeys, readNamesFile } from "../src/index.js";
import { PACKAGER_CLI, TempDirs, keysOnlyArgs, run, runPackager } from "./helpers.js";

const temps = new TempDirs();
afterEach(() => temps.removeAll());

async function deployment(): Promise<{
  dir: string;
  certificates: string;
  out: string;
  env: NodeJS.ProcessEnv;
}> {
  const dir = await temps.make();
  const certificates = join(dir, "certs");
  await createServerKeys({ certificates, config: false });
  await mkdir(join(dir, "tmp"));
  return {
    dir,
    certificates,
    out: join(dir, "out"),
    env: { ...process.env, TMPDIR: join(dir, "tmp") },
  };
}

async function allowedNames(certificates: string): Promise<string[]> {
  const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
  try {
    return store.list().map((key) => key.name);
  } finally {
    await store.close();
  }
}

describe("createclient --names-from", () => {
  it("builds the good names, reports each failure, sums up and exits 1", async () => {
    const d = await deployment();
    const names = join(d.dir, "names.txt");
    await writeFile(names, "alpha\n# a comment\n\n  bad/name  \nalpha   # listed twice\nbeta\n");
    const result = await runPackager(keysOnlyArgs(["--names-from", names], d.certificates, d.out), {
      env: d.env,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      `ok alpha: ${join(d.out, `osad2-client-alpha-${PACKAGER_VERSION}-1.noarch.rpm`)}`,
    );
    expect(lines[1]).toMatch(/^FAILED bad\/name: invalid client name "bad\/name"/);
    expect(lines[2]).toMatch(/^FAILED alpha: client "alpha" already exists/);
    expect(lines[3]).toBe(
      `ok beta: ${join(d.out, `osad2-client-beta-${PACKAGER_VERSION}-1.noarch.rpm`)}`,
    );
    expect(lines[4]).toBe("built 2 of 4 client packages; 2 failed:");
    expect(lines.slice(5).map((line) => line.trim().split(":")[0])).toEqual([
      "FAILED bad/name",
      "FAILED alpha",
    ]);
    expect((await readdir(d.out)).sort()).toEqual([
      `osad2-client-alpha-${PACKAGER_VERSION}-1.noarch.rpm`,
      `osad2-client-beta-${PACKAGER_VERSION}-1.noarch.rpm`,
    ]);
    expect(await allowedNames(d.certificates)).toEqual(["alpha", "beta", "server"]);
    expect(await readdir(join(d.dir, "tmp"))).toEqual([]);
  });

  it("draws a progress bar on a terminal and exits 0 when all succeed", async () => {
    const d = await deployment();
    const names = join(d.dir, "names.txt");
    await writeFile(names, "one\ntwo\nthree\n");
    const command = [
      process.execPath,
      PACKAGER_CLI,
      ...keysOnlyArgs(["--names-from", names], d.certificates, d.out),
    ]
      .map((arg) => `'${arg}'`)
      .join(" ");
    // script(1) gives the CLI a pseudo-terminal as stdout; its exit status is the command's.
    const result = await run("script", ["-qec", command, "/dev/null"], {
      env: { ...d.env, COLUMNS: "100" },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/building .* 3\/3/);
    expect(result.stdout).toContain("built 3 of 3 client packages");
    expect(await allowedNames(d.certificates)).toEqual(["one", "server", "three", "two"]);
  });

  it("refuses an empty or unreadable names file with one line", async () => {
    const d = await deployment();
    await writeFile(join(d.dir, "empty.txt"), "# nobody\n\n");
    let result = await runPackager(
      ["createclient", "--names-from", join(d.dir, "empty.txt"), "--certificates", d.certificates],
      {
        env: d.env,
      },
    );
    expect(result.code).toBe(2); // a bad --names-from is a usage error
    expect(result.stderr).toBe(
      `osad2-packager: invalid --names-from: ${join(d.dir, "empty.txt")} lists no client names\n`,
    );
    result = await runPackager(["createclient", "--names-from", join(d.dir, "missing.txt")], {
      env: d.env,
    });
    expect(result.code).toBe(2); // a bad --names-from is a usage error
    expect(result.stderr).toMatch(
      /^osad2-packager: invalid --names-from: cannot read .*missing\.txt: no such file or directory \(ENOENT\)\n$/,
    );
  });

  it("readNamesFile trims, skips comments and blank lines, keeps order", async () => {
    const d = await deployment();
    await writeFile(join(d.dir, "n.txt"), "b\r\n a \n#x\n\nc # trailing\n");
    expect(await readNamesFile(join(d.dir, "n.txt"))).toEqual(["b", "a", "c"]);
  });
});
