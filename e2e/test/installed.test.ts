// Installed as the README's Deploying section says: tools/pack builds and packs the npm packages
// and the server RPM into one folder, and `npm install -g --allow-scripts=zeromq,better-sqlite3
// ./osad2-pack/*.tgz` installs them into a temporary --prefix outside the workspace (nothing
// hoisted from the monorepo can hide a missing dependency, and no @osad2 package comes from the
// registry); then the installed commands, man pages and completions, and createserver → init →
// run → client → rhn_check.
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashComplete, readManPage, tempDir, waitFor } from "@osad2/test-helpers";
import { Deployment, run } from "@osad2/testkit";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const packages = ["protocol", "keys", "service-kit", "server", "client", "proxy", "packager"];

let tmp: { path: string; remove(): Promise<void> };
let packed: string;
let prefix: string;
let d: Deployment | undefined;

beforeAll(async () => {
  tmp = await tempDir("osad2-installed-");
  packed = path.join(tmp.path, "osad2-pack");
  const pack = await run(path.join(root, "tools", "pack"), ["--out", packed], {
    timeoutMs: 300_000,
  });
  expect(pack.code, pack.stdout + pack.stderr).toBe(0);
  await seedBetterSqlitePrebuild();
  prefix = path.join(tmp.path, "prefix");
  const files = (await fs.readdir(packed))
    .filter((f) => f.endsWith(".tgz"))
    .map((f) => path.join(packed, f));
  // zeromq ships its native addon; better-sqlite3 builds or fetches its own: both need their install scripts.
  const install = await run(
    "npm",
    [
      "install",
      "-g",
      "--prefix",
      prefix,
      "--no-audit",
      "--no-fund",
      "--allow-scripts=zeromq,better-sqlite3",
      ...files,
    ],
    { cwd: tmp.path, timeoutMs: 600_000 },
  );
  expect(install.code, install.stdout + install.stderr).toBe(0);
}, 660_000);

/**
 * better-sqlite3 installs by fetching a prebuilt addon from its GitHub releases, which this
 * machine cannot reach, and then compiles from source (over a minute). prebuild-install looks
 * in npm's cache first, so put the addon the workspace already compiled from the same version
 * there, under the exact name prebuild-install would cache the download as.
 */
async function seedBetterSqlitePrebuild(): Promise<void> {
  const pkgDir = path.join(root, "node_modules", "better-sqlite3");
  const { version } = JSON.parse(await fs.readFile(path.join(pkgDir, "package.json"), "utf8")) as {
    version: string;
  };
  const asset = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const url = `https://github.com/WiseLibs/better-sqlite3/releases/download/v${version}/${asset}`;
  const digest = createHash("sha512").update(url).digest("hex").slice(0, 6);
  // Asked outside the workspace: inside it `npm config get` refuses (ENOWORKSPACES) and prints nothing.
  const cache = await run("npm", ["config", "get", "cache"], { cwd: tmp.path });
  expect(cache.code, cache.stderr).toBe(0);
  const npmCache = cache.stdout.trim();
  expect(path.isAbsolute(npmCache), `npm cache directory: ${JSON.stringify(npmCache)}`).toBe(true);
  const cacheDir = path.join(npmCache, "_prebuilds");
  await fs.mkdir(cacheDir, { recursive: true });
  const tar = await run("tar", [
    "-czf",
    path.join(cacheDir, `${digest}-${asset.replace(/[^a-zA-Z0-9.]+/g, "-")}`),
    "-C",
    pkgDir,
    "build/Release/better_sqlite3.node",
  ]);
  expect(tar.code, tar.stderr).toBe(0);
}

afterAll(async () => {
  await d?.dispose();
  await tmp?.remove();
});

describe("the README's Deploying section", () => {
  it("prints the commands this file runs: tools/pack, then the one npm install of its tarballs", async () => {
    const readme = await fs.readFile(path.join(root, "README.md"), "utf8");
    const deploying = readme.split("## Deploying")[1]?.split("\n## ")[0] ?? "";
    expect(deploying).toMatch(/^tools\/pack\b/m);
    expect(deploying).toContain(
      "npm install -g --allow-scripts=zeromq,better-sqlite3 ./osad2-pack/*.tgz",
    );
  });
});

describe("tools/pack", () => {
  it("packs every publishable package and the server RPM into one folder", async () => {
    const names = (await fs.readdir(packed)).sort();
    for (const pkg of packages) expect(names).toContain(`osad2-${pkg}-0.1.0.tgz`);
    const rpm = names.filter((n) => /^osad2-server-0\.1\.0-1\.\w+\.rpm$/.test(n));
    expect(rpm, names.join(" ")).toHaveLength(1);
    const query = await run("rpm", [
      "-qp",
      "--qf",
      "%{NAME} %{VERSION}",
      path.join(packed, rpm[0] ?? ""),
    ]);
    expect(query.stdout).toBe("osad2-server 0.1.0");
  });
});

describe("installed from the packed tarballs", () => {
  it("osad2-server --version, and every CLI answers --help from the install prefix", async () => {
    const version = await run(path.join(prefix, "bin", "osad2-server"), ["--version"], {
      cwd: tmp.path,
    });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe("0.1.0");
    for (const bin of ["osad2-server", "osad2-client", "osad2-proxy", "osad2-packager"]) {
      const help = await run(path.join(prefix, "bin", bin), ["--help"], { cwd: tmp.path });
      expect(help.code, `${bin}: ${help.stderr}`).toBe(0);
      expect(help.stdout).toMatch(/Usage/i);
    }
  });

  it("npm linked each man page into the prefix's share/man, and each completion is in the package", async () => {
    for (const [pkg, bin, section] of [
      ["server", "osad2-server", 8],
      ["client", "osad2-client", 8],
      ["proxy", "osad2-proxy", 8],
      ["packager", "osad2-packager", 1],
    ] as const) {
      const page = await readManPage(
        path.join(prefix, "share", "man", `man${section}`, `${bin}.${section}`),
      );
      expect(page.warnings).toBe("");
      expect(page.text).toContain(`${bin} --help`);
      const completion = path.join(
        prefix,
        "lib",
        "node_modules",
        "@osad2",
        pkg,
        "dist",
        "completions",
        `${bin}.bash`,
      );
      expect(await bashComplete(completion, [bin, "--he"])).toEqual(["--help"]);
    }
  });

  it("createserver, init, run and a client: one full notify → rhn_check round trip", async () => {
    d = await Deployment.create({
      database: "sqlite",
      bins: {
        server: path.join(prefix, "bin", "osad2-server"),
        client: path.join(prefix, "bin", "osad2-client"),
      },
    });
    // The installed packager makes the server keys (Deployment made a pair already: replace it).
    const created = await run(path.join(prefix, "bin", "osad2-packager"), [
      "createserver",
      "--certificates",
      d.certificates,
      "--config",
      path.join(d.dir, "packager-default.cfg"),
      "--force",
    ]);
    expect(created.code, created.stderr).toBe(0);
    await d.init();
    await d.addSystem("installed");
    await d.startServer();
    d.startClient("installed");
    await d.waitOnline("installed", 30_000);
    const scheduled = Date.now();
    await d.schedule(["installed"]);
    const runAt = await waitFor("the installed client's run", async () => (await d!.runs())[0]?.at);
    expect(runAt - scheduled).toBeLessThan(5_000);
  });
});
