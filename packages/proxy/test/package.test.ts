// What gets published: the packed file list, the built entry points, the unit, the man page.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { configDocsTable } from "@osad2/service-kit";
import { describe, expect, it } from "vitest";
import { PROXY_CONFIG } from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("the published package", () => {
  it("packs dist (unit, config template, man page, completion), the README and package.json, nothing else", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: root,
      encoding: "utf8",
    });
    const files = (JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli.js",
      "dist/systemd/osad2-proxy.service",
      "dist/config/osad2-proxy.conf",
      "dist/man/osad2-proxy.8",
      "dist/completions/osad2-proxy.bash",
      "README.md",
      "package.json",
    ]) {
      expect(files).toContain(f);
    }
    expect(
      files.filter((f) => !(f.startsWith("dist/") || f === "README.md" || f === "package.json")),
    ).toEqual([]);
    expect(files.some((f) => f.startsWith("dist/cli-docs"))).toBe(false);
  });

  it("exports the library, not the CLI's internals, and never the server", async () => {
    const dist = (await import(new URL("../dist/index.js", import.meta.url).href)) as Record<
      string,
      unknown
    >;
    for (const name of ["createProxy", "loadProxyConfig", "loadProxyKeys", "ProxyKeyError"])
      expect(typeof dist[name], name).toBe("function");
    for (const internal of ["parseCliArgs", "buildProgram"])
      expect(dist, internal).not.toHaveProperty(internal);
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain("@osad2/server");
    expect(
      (await readFile(new URL("../dist/cli.js", import.meta.url), "utf8")).startsWith(
        "#!/usr/bin/env node\n",
      ),
    ).toBe(true);
  });

  it("the config template loads with the schema's keys", async () => {
    const template = await readFile(new URL("../config/osad2-proxy.conf", import.meta.url), "utf8");
    for (const key of Object.keys(PROXY_CONFIG.keys))
      expect(template).toMatch(new RegExp(`^${key} =`, "m"));
  });

  it("documents every config key in the README as the schema does", async () => {
    const rows = (text: string): string[] =>
      text
        .split("\n")
        .filter((line) => line.startsWith("| `"))
        .map((line) =>
          line
            .split(/(?<!\\)\|/)
            .map((cell) => cell.trim())
            .join("|"),
        );
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const documented = rows(readme);
    for (const row of rows(configDocsTable(PROXY_CONFIG))) expect(documented).toContain(row);
  });
});
