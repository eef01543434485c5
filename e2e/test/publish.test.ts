// What gets published: each tarball holds dist/, README.md and package.json only, passes
// publint, and its README example compiles against the built packages; an unbuilt package
// cannot be packed.
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "@osad2/test-helpers";
import { run } from "@osad2/testkit";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const packages = ["protocol", "keys", "service-kit", "server", "client", "packager"];

describe.each(packages)("@osad2/%s as published", (pkg) => {
  const dir = path.join(root, "packages", pkg);

  it("packs only dist/, README.md and package.json", async () => {
    const result = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: dir,
    });
    expect(result.code, result.stderr).toBe(0);
    const [info] = JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = info!.files.map((f) => f.path);
    expect(files).toContain("package.json");
    expect(files).toContain("README.md");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    const stray = files.filter(
      (f) => !(f === "package.json" || f === "README.md" || f.startsWith("dist/")),
    );
    expect(stray).toEqual([]);
    // The CLIs ship the man page and bash completion built from their commander program, not the
    // build-time module that describes it.
    const bin = {
      server: "osad2-server.8",
      client: "osad2-client.8",
      packager: "osad2-packager.1",
    }[pkg];
    if (bin !== undefined) {
      expect(files).toContain(`dist/man/${bin}`);
      expect(files).toContain(`dist/completions/${bin.replace(/\.\d$/, "")}.bash`);
    }
    expect(files.filter((f) => f.startsWith("dist/cli-docs"))).toEqual([]);
  });

  it("refuses to be packed unbuilt: its prepack is the check of what package.json names", async () => {
    const pkgJson = JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkgJson.scripts.prepack).toBe("node ../../tools/lib/assert-built.mjs");
  });

  it("passes publint (exports, types and files agree)", async () => {
    const result = await run(process.execPath, [
      path.join(root, "node_modules/publint/src/cli.js"),
      "--strict",
      dir,
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("its README has the install line and an example that compiles", async () => {
    const readme = await fs.readFile(path.join(dir, "README.md"), "utf8");
    expect(readme).toContain(`npm install @osad2/${pkg}`);
    const example = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, "a ```ts block under '## Example'").toBeTruthy();
    const work = path.join(root, "e2e", "dist-test", "readme", pkg);
    await fs.mkdir(work, { recursive: true });
    await fs.writeFile(path.join(work, "example.ts"), example!);
    await fs.writeFile(
      path.join(work, "tsconfig.json"),
      JSON.stringify({
        extends: path.join(root, "tsconfig.base.json"),
        compilerOptions: { noEmit: true, noUnusedLocals: false },
        files: ["example.ts"],
      }),
    );
    const tsc = await run(process.execPath, [
      path.join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      work,
    ]);
    expect(tsc.code, `README example of @osad2/${pkg} does not compile:\n${tsc.stdout}`).toBe(0);
  });
});

describe("npm pack of an unbuilt package", () => {
  it("fails, saying what is missing and what to run, and writes no tarball", async () => {
    // The package as a fresh clone has it (package.json, no dist/), at the same depth below tools/.
    const tmp = await tempDir("osad2-unbuilt-");
    try {
      await fs.symlink(path.join(root, "tools"), path.join(tmp.path, "tools"));
      const pkgDir = path.join(tmp.path, "packages", "packager");
      await fs.mkdir(pkgDir, { recursive: true });
      await fs.copyFile(
        path.join(root, "packages/packager/package.json"),
        path.join(pkgDir, "package.json"),
      );
      const packed = await run("npm", ["pack"], { cwd: pkgDir });
      expect(packed.code).not.toBe(0);
      expect(packed.stderr).toContain("@osad2/packager is not built (missing ./dist/index.js");
      expect(packed.stderr).toContain("run tools/pack");
      expect((await fs.readdir(pkgDir)).filter((f) => f.endsWith(".tgz"))).toEqual([]);
    } finally {
      await tmp.remove();
    }
  });
});
