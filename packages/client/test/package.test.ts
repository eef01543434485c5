// What gets published: the packed file list, the built entry points, the systemd unit and
// the config template.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { configDocsTable } from "@osad2/service-kit";
import { describe, expect, it } from "vitest";
import { CLIENT_CONFIG } from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("the published package", () => {
  it("packs dist (with the systemd unit and the config template), the README and package.json, nothing else", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: root,
      encoding: "utf8",
    });
    const files = (JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli.js",
      "dist/systemd/osad2-client.service",
      "dist/config/osad_client.cfg",
      "dist/clientCaps.d/osad2",
      "README.md",
      "package.json",
    ]) {
      expect(files).toContain(f);
    }
    expect(
      files.filter((f) => !(f.startsWith("dist/") || f === "README.md" || f === "package.json")),
    ).toEqual([]);
  });

  it("the built module exports the API and the CLI starts with a shebang", async () => {
    const dist = (await import(new URL("../dist/index.js", import.meta.url).href)) as Record<
      string,
      unknown
    >;
    for (const name of [
      "createClient",
      "loadConfig",
      "Executor",
      "registerOsad",
      "Subscriber",
      "RegistrationFault",
      "KeyConfigError",
    ]) {
      expect(typeof dist[name], name).toBe("function");
    }
    expect(
      (await readFile(new URL("../dist/cli.js", import.meta.url), "utf8")).startsWith(
        "#!/usr/bin/env node\n",
      ),
    ).toBe(true);
  });

  it("ships clientCaps.d/osad2 declaring osad.ping(1)=1 and osad.rhn_check(1)=1, as classic osad's clientCaps.d/osad does", async () => {
    // rhn_check reports these to Spacewalk; its web UI shows "OSA Status" and "Ping System"
    // only for systems capable of osad.ping.
    const caps = await readFile(new URL("../dist/clientCaps.d/osad2", import.meta.url), "utf8");
    expect(caps).toBe("osad.ping(1)=1\nosad.rhn_check(1)=1\n");
  });

  it("the unit stops gently and reloads with SIGHUP", async () => {
    const unit = await readFile(
      new URL("../dist/systemd/osad2-client.service", import.meta.url),
      "utf8",
    );
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/env osad2-client run --config \/etc\/rhn\/osad2-client\/osad_client\.cfg$/m,
    );
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^UMask=0022$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartSec=20$/m);
  });

  it("exports the library, not the CLI's internals", async () => {
    const dist = (await import(new URL("../dist/index.js", import.meta.url).href)) as Record<
      string,
      unknown
    >;
    for (const internal of ["parseCliArgs", "buildProgram", "acquirePidfile", "parseIni"]) {
      expect(dist, internal).not.toHaveProperty(internal);
    }
  });

  it("documents every config key in the README as the schema does", async () => {
    // Cells compared trimmed, so prettier's column padding does not matter.
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
    for (const row of rows(configDocsTable(CLIENT_CONFIG))) expect(documented).toContain(row);
  });
});
