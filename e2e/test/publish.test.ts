// What gets published: each tarball holds dist/, README.md and package.json only, passes
// publint, and its README example compiles against the built packages.
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
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
