// What gets published: the built library, the CLI and the client bundle, used from outside the repository.
import { cp, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGER_VERSION } from "../src/index.js";
import { CLIENT_BUNDLE, TempDirs, run, runPackager } from "./helpers.js";

const temps = new TempDirs();
let copy: string;

beforeAll(async () => {
  // A copy under /tmp: nothing can resolve to the workspace's node_modules from there.
  copy = join(await temps.make(), "client-bundle");
  await cp(CLIENT_BUNDLE, copy, { recursive: true });
});
afterAll(() => temps.removeAll());

describe("dist/client-bundle", () => {
  it("names a linux glibc zeromq addon for x64 and arm64 that exists", async () => {
    const info = JSON.parse(await readFile(join(CLIENT_BUNDLE, "osad2-bundle.json"), "utf8")) as {
      clientVersion: string;
      addons: Record<string, { path: string }>;
    };
    expect(Object.keys(info.addons).sort()).toEqual(["arm64", "x64"]);
    for (const [arch, addon] of Object.entries(info.addons)) {
      expect(addon.path).toMatch(
        new RegExp(
          `^node_modules/zeromq/build/linux/${arch}/node/glibc-\\d+-Release/addon\\.node$`,
        ),
      );
      expect((await stat(join(CLIENT_BUNDLE, addon.path))).size).toBeGreaterThan(100_000);
    }
  });

  it("loads zeromq with CURVE from a copy outside the repository", async () => {
    const result = await run(
      process.execPath,
      ["-e", "const z = require('./node_modules/zeromq'); console.log(z.capability.curve)"],
      { cwd: copy },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("true");
  });

  it("starts: node <copy>/cli.js --help", async () => {
    const result = await run(process.execPath, [join(copy, "cli.js"), "--help"], {
      cwd: join(copy, ".."),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("run");
    expect(result.stdout).toContain("register");
    expect(result.stdout).toContain("status");
  });
});

describe("dist/index.js and dist/cli.js", () => {
  it("export the public API by name", async () => {
    const lib = (await import(new URL("../dist/index.js", import.meta.url).href)) as Record<
      string,
      unknown
    >;
    for (const name of [
      "createServerKeys",
      "createClientPackage",
      "createClientPackages",
      "PackagerError",
      "InvalidNameError",
      "DuplicateClientError",
      "MissingServerKeyError",
      "RpmbuildMissingError",
      "OutputDirError",
      "RpmBuildError",
    ]) {
      expect(typeof lib[name], name).toBe("function");
    }
    expect(lib.PACKAGER_VERSION).toBe(PACKAGER_VERSION);
  });

  it("the CLI prints its version and exits 2 on usage errors", async () => {
    const version = await runPackager(["--version"]);
    expect(version).toEqual({ code: 0, stdout: `${PACKAGER_VERSION}\n`, stderr: "" });
    const usage = await runPackager(["createclient"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("needs --name NAME or --names-from FILE");
  });
});
