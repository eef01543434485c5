// One full client RPM, built once and judged only by the real rpm tool and @osad2/keys.
import { KeyStore, isCurveKey, readKeyPair, readPublicKey } from "@osad2/keys";
import { parse as parseIni } from "ini";
import { lstat, mkdir, readFile, readdir, readlink, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashComplete, bashSyntaxErrors } from "@osad2/test-helpers";
import {
  CLIENT_PATHS,
  PACKAGER_VERSION,
  createClientPackage,
  createServerKeys,
  rpmArchFor,
  type ClientPackage,
} from "../src/index.js";
import {
  PROJECT_LICENSE,
  TempDirs,
  buildFakeNodejs,
  buildTinyRpm,
  rpmInstall,
  run,
  runScriptlet,
  shebangs,
  unmetDependencies,
} from "./helpers.js";

const temps = new TempDirs();
/** Where @osad2/client ships the files its RPM must carry unchanged (they exist once, there). */
const CLIENT_DIST = join(
  dirname(createRequire(import.meta.url).resolve("@osad2/client/package.json")),
  "dist",
);
const ARCH = rpmArchFor(process.arch) ?? "unsupported";
const OTHER_NODE_ARCH = process.arch === "arm64" ? "x64" : "arm64";

let dir: string;
let certificates: string;
let tmpDir: string;
let root: string;
let serverPublicKey: string;
let client: ClientPackage;
let buildMs: number;

beforeAll(async () => {
  dir = await temps.make();
  certificates = join(dir, "certs");
  tmpDir = join(dir, "tmp");
  root = join(dir, "root");
  await mkdir(tmpDir);
  serverPublicKey = (await createServerKeys({ certificates, config: false })).publicKey;
  const started = Date.now();
  client = await createClientPackage({
    name: "web01",
    certificates,
    out: join(dir, "rpms"),
    serverHost: "spacewalk.example.com",
    release: "3",
    tmpDir,
  });
  buildMs = Date.now() - started;
  const install = await rpmInstall(root, client.rpmPath);
  if (install.code !== 0) throw new Error(`rpm -i failed: ${install.stderr}`);
}, 120_000);

afterAll(() => temps.removeAll());

const rpmQueryOf = async (rpmPath: string, ...args: string[]): Promise<string> => {
  const result = await run("rpm", ["-qp", ...args, rpmPath]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
};
const rpmQuery = (...args: string[]): Promise<string> => rpmQueryOf(client.rpmPath, ...args);

describe("createClientPackage: the RPM", () => {
  it("is named osad2-client-NAME-VERSION-RELEASE.ARCH.rpm and left no temporary files", async () => {
    expect(basename(client.rpmPath)).toBe(`osad2-client-web01-${PACKAGER_VERSION}-3.${ARCH}.rpm`);
    expect(client).toMatchObject({ name: "web01", arch: ARCH, keysOnly: false });
    expect(isCurveKey(client.publicKey)).toBe(true);
    expect(await readdir(tmpDir)).toEqual([]);
    expect(await readdir(join(dir, "rpms"))).toEqual([basename(client.rpmPath)]);
    expect(buildMs).toBeLessThan(60_000);
  });

  it("is 0600: it carries the system's secret key, which rpm2cpio would hand to any reader", async () => {
    expect((await stat(client.rpmPath)).mode & 0o777).toBe(0o600);
  });

  it("rpm -qip shows name, version, release, summary, license, group and URL", async () => {
    const info = await rpmQuery("-i");
    expect(info).toMatch(/^Name\s+: osad2-client-web01$/m);
    expect(info).toMatch(
      new RegExp(`^Version\\s+: ${PACKAGER_VERSION.replace(/\./g, "\\.")}$`, "m"),
    );
    expect(info).toMatch(/^Release\s+: 3$/m);
    expect(info).toMatch(new RegExp(`^Architecture: ${ARCH}$`, "m"));
    // osad2's licence and every bundled one (SPDX): MIT packages, tweetnacl's Unlicense, libzmq's MPL.
    expect(info).toMatch(/^License\s+: GPL-2\.0-only AND (\S+ AND )*MIT AND MPL-2\.0( AND \S+)*$/m);
    // Who built it (this host), not the server it connects to; that is in the description.
    expect(info).toMatch(/^Packager\s+: osad2-packager <root@\S+>$/m);
    expect(info).toMatch(/^Group\s+: System Environment\/Daemons$/m);
    expect(info).toMatch(/^URL\s+: https:\/\/\S+$/m);
    expect(info).toMatch(/^Summary\s+: Push client of osad2 .*web01$/m);
    expect(info).toContain("spacewalk.example.com");
  });

  it("rpm -qlvp lists every file with client.key_secret as -rw------- root root", async () => {
    const listing = await rpmQuery("-lv");
    const entries = new Map<string, string>();
    for (const line of listing.trim().split("\n")) {
      const fields = line.trim().split(/\s+/);
      entries.set(fields.at(-1) ?? "", `${fields[0]} ${fields[2]} ${fields[3]}`);
    }
    expect(entries.get(CLIENT_PATHS.secretKey)).toBe("-rw------- root root");
    expect(entries.get(CLIENT_PATHS.serverKey)).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.config)).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.bin)).toBe("-rwxr-xr-x root root");
    expect(entries.get(CLIENT_PATHS.unit)).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.dropIn)).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.preset)).toBe("-rw-r--r-- root root");
    expect(entries.get("/usr/share/man/man8/osad2-client.8.gz")).toBe("-rw-r--r-- root root");
    expect(entries.get("/usr/share/bash-completion/completions/osad2-client")).toBe(
      "-rw-r--r-- root root",
    );
    expect(entries.get("/usr/share/doc/osad2-client-web01/README.md")).toBe("-rw-r--r-- root root");
    expect(entries.get("/etc/sysconfig/rhn/clientCaps.d/osad2")).toBe("-rw-r--r-- root root");
    expect(entries.get(CLIENT_PATHS.certsDir)).toBe("drwx------ root root");
    expect(entries.get(CLIENT_PATHS.configDir)).toBe("drwxr-xr-x root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/cli.js`)).toBe("-rwxr-xr-x root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/dist/cli.js`)).toBe("-rwxr-xr-x root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/package.json`)).toBe("-rw-r--r-- root root");
    expect(entries.get(`${CLIENT_PATHS.libDir}/node_modules/zeromq/lib/index.js`)).toBeDefined();
    expect(
      entries.get(`${CLIENT_PATHS.libDir}/node_modules/cmake-ts/build/loader.js`),
    ).toBeDefined();
    const addons = [...entries.keys()].filter((path) => path.endsWith(".node"));
    expect(addons).toHaveLength(1);
    expect(addons[0]).toContain(`/build/linux/${process.arch}/node/glibc-`);
    expect([...entries.keys()].some((path) => path.includes(`/linux/${OTHER_NODE_ARCH}`))).toBe(
      false,
    );
    expect([...entries.keys()].some((path) => path.includes("osad2-bundle.json"))).toBe(false);
  });

  it("marks only the client config and clientCaps.d/osad2 as %config(noreplace), as classic osad marks its caps file", async () => {
    const flags = await rpmQuery("--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]");
    const configs = flags
      .trim()
      .split("\n")
      .filter((line) => / \S*c\S*$/.test(line));
    expect(configs.sort()).toEqual(
      [`${CLIENT_PATHS.config} cn`, `${CLIENT_PATHS.clientCaps} cn`].sort(),
    );
  });

  it("rpm -K reports the digests OK", async () => {
    const result = await run("rpm", ["-K", client.rpmPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("digests OK");
  });

  it("provides osad2-client and bundled(nodejs-…) for each bundled package, and has a %changelog", async () => {
    const provides = (await rpmQuery("--provides")).split("\n");
    expect(provides.some((line) => /^bundled\(nodejs-pino\) = \d+\.\d+\.\d+$/.test(line))).toBe(
      true,
    );
    expect(provides.some((line) => /^bundled\(nodejs-zeromq\) = \d/.test(line))).toBe(true);
    expect(provides.some((line) => /^bundled\(libzmq\) = 4\.\d+\.\d+$/.test(line))).toBe(true);
    expect((await rpmQuery("--provides")).split("\n")).toContain(
      `osad2-client = ${PACKAGER_VERSION}-3`,
    );
    const changelog = await rpmQuery("--changelog");
    // The entry is signed by the host that built it; the server it connects to is in the text.
    expect(changelog).toMatch(/^\* \w{3} \w{3} \d{2} \d{4} osad2-packager <root@\S+> - /m);
    expect(changelog).toContain("for system web01, server spacewalk.example.com");
  });
});

describe("createClientPackage: the installed tree (rpm -i --root --nodeps --noscripts)", () => {
  it("declares osad.ping and osad.rhn_check in clientCaps.d/osad2, @osad2/client's file unchanged", async () => {
    // Spacewalk's web UI shows "OSA Status" and "Ping System" only for systems capable of osad.ping.
    const caps = await readFile(join(root, "etc/sysconfig/rhn/clientCaps.d/osad2"), "utf8");
    expect(caps).toBe("osad.ping(1)=1\nosad.rhn_check(1)=1\n");
    expect(caps).toBe(await readFile(join(CLIENT_DIST, "clientCaps.d", "osad2"), "utf8"));
    expect(await rpmQuery("-c")).toContain("/etc/sysconfig/rhn/clientCaps.d/osad2");
  });

  it("holds a 0600 client.key_secret that @osad2/keys loads, pyzmq-style, matching public_keys/web01.key", async () => {
    const secretPath = join(root, CLIENT_PATHS.secretKey);
    expect((await stat(secretPath)).mode & 0o777).toBe(0o600);
    const pair = await readKeyPair(secretPath);
    expect(pair.publicKey).toBe(client.publicKey);
    expect(pair.secretKey).not.toBe(pair.publicKey); // the seed's bug: the public key copied into key_secret
    expect(await readPublicKey(join(certificates, "public_keys", "web01.key"))).toBe(
      pair.publicKey,
    );
    const text = await readFile(secretPath, "utf8");
    expect(text).toMatch(/^curve\n {4}public-key = "[^"]{40}"\n {4}secret-key = "[^"]{40}"$/m);
  });

  it("holds the server's public key and no secret of the server", async () => {
    const serverKeyPath = join(root, CLIENT_PATHS.serverKey);
    expect(await readPublicKey(serverKeyPath)).toBe(serverPublicKey);
    expect(await readFile(serverKeyPath, "utf8")).not.toContain("secret-key");
  });

  it("has a config with server_host and the key paths, a service unit and a wrapper", async () => {
    const config = parseIni(await readFile(join(root, CLIENT_PATHS.config), "utf8")) as {
      osad: Record<string, string>;
    };
    expect(config.osad).toEqual({
      server_host: "spacewalk.example.com",
      certificates: CLIENT_PATHS.certsDir,
      server_public_key: CLIENT_PATHS.serverKey,
      client_secret_key: CLIENT_PATHS.secretKey,
    });
    const text = await readFile(join(root, CLIENT_PATHS.config), "utf8");
    // @osad2/client's template with this system's values: its commented defaults are still there.
    expect(text).toContain("\n;registry_interval = 20\n");
    expect(text).not.toContain(";server_host =");
    const unit = await readFile(join(root, CLIENT_PATHS.unit), "utf8");
    expect(unit).toBe(await readFile(join(CLIENT_DIST, "systemd", "osad2-client.service"), "utf8"));
    expect(unit).toContain(
      `ExecStart=/usr/bin/env osad2-client run --config ${CLIENT_PATHS.config}`,
    );
    expect(unit).toContain("WantedBy=multi-user.target");
    // systemctl stop must not SIGTERM a running rhn_check: the client drains it itself.
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    const wrapper = await readFile(join(root, CLIENT_PATHS.bin), "utf8");
    expect(wrapper).toBe(`#!/bin/sh\nexec /usr/bin/node ${CLIENT_PATHS.libDir}/cli.js "$@"\n`);
    // The unit's `/usr/bin/env osad2-client` would run whichever copy is first on PATH.
    const dropIn = await readFile(join(root, CLIENT_PATHS.dropIn), "utf8");
    expect(dropIn).toMatch(
      /^\[Service\]\nExecStart=\nExecStart=\/usr\/bin\/osad2-client run --config \/etc\/rhn\/osad2-client\/osad_client\.cfg$/m,
    );
  });

  it("loads the bundled zeromq with CURVE from the installed tree", async () => {
    const zeromq = join(root, CLIENT_PATHS.libDir, "node_modules", "zeromq", "lib", "index.js");
    const result = await run(
      process.execPath,
      [
        "-e",
        `const z = require(${JSON.stringify(zeromq)}); console.log(z.version, z.capability.curve)`,
      ],
      { cwd: tmpDir },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toMatch(/^4\.\d+\.\d+ true$/);
  });

  it("runs: node <root>/usr/lib/osad2-client/cli.js --help", async () => {
    const result = await run(
      process.execPath,
      [join(root, CLIENT_PATHS.libDir, "cli.js"), "--help"],
      { cwd: tmpDir },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("run");
    expect(result.stdout).toContain("register");
    expect(result.stdout).toContain("status");
  });
});

describe("createClientPackage: the allow-list", () => {
  it("allows the new client at once and denies it after KeyStore.revoke", async () => {
    const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(store.has(client.publicKey)).toBe(true);
      expect(store.findByPublicKey(client.publicKey)?.name).toBe("web01");
      await store.revoke("web01");
      expect(store.has(client.publicKey)).toBe(false);
    } finally {
      await store.close();
    }
    const reopened = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(reopened.has(client.publicKey)).toBe(false);
    } finally {
      await reopened.close();
    }
  });
});

describe("createClientPackage --arch (cross-building)", () => {
  it("builds the other architecture with only its zeromq addon and a manifest naming it", async () => {
    const otherArch = OTHER_NODE_ARCH === "arm64" ? "aarch64" : "x86_64";
    const other = await createClientPackage({
      name: "cross01",
      certificates,
      out: join(dir, "rpms"),
      serverHost: "spacewalk.example.com",
      arch: otherArch,
      tmpDir,
    });
    expect(basename(other.rpmPath)).toBe(
      `osad2-client-cross01-${PACKAGER_VERSION}-1.${otherArch}.rpm`,
    );
    expect((await rpmQueryOf(other.rpmPath, "--qf", "%{ARCH}")).trim()).toBe(otherArch);
    const files = (await rpmQueryOf(other.rpmPath, "-l")).trim().split("\n");
    const addons = files.filter((path) => path.endsWith(".node"));
    expect(addons).toHaveLength(1);
    expect(addons[0]).toContain(`/build/linux/${OTHER_NODE_ARCH}/node/glibc-`);
    expect(files.some((path) => path.includes(`/linux/${process.arch}`))).toBe(false);

    const crossRoot = join(dir, "cross-root");
    const install = await rpmInstall(crossRoot, other.rpmPath, { ignoreArch: true });
    expect(install.code, install.stderr).toBe(0);
    const manifest = JSON.parse(
      await readFile(
        join(crossRoot, CLIENT_PATHS.libDir, "node_modules/zeromq/build/manifest.json"),
        "utf8",
      ),
    ) as Record<string, string>;
    expect(Object.values(manifest)).toEqual([addons[0]?.replace(/^.*\/zeromq\/build\//, "")]);
    expect(Object.keys(manifest).map((key) => (JSON.parse(key) as { arch: string }).arch)).toEqual([
      OTHER_NODE_ARCH,
    ]);
  });
});

describe("createClientPackage: what a distribution checks", () => {
  it("needs a Node.js that nodejs 1:16 (RHEL's epoch) does not provide, and nodejs 1:20 does", async () => {
    // RHEL's and Fedora's nodejs has Epoch 1: "nodejs >= 20" (epoch 0) is met by nodejs-1:16.
    // Every such nodejs provides nodejs(engine) = <upstream version>, without the epoch.
    const requires = (await rpmQuery("--requires")).split("\n");
    expect(requires).toContain("nodejs(engine) >= 20");
    expect(requires.filter((line) => /^nodejs\b/.test(line))).toEqual(["nodejs(engine) >= 20"]);
    const fakes = join(dir, "fakes");
    await mkdir(fakes);
    const oldStyle = await buildTinyRpm(fakes, {
      name: "old-style",
      version: "1",
      requires: ["nodejs >= 20"],
    });
    const cases: Array<[string, boolean]> = [
      ["16.20.2", false],
      ["20.19.5", true],
    ];
    for (const [version, satisfies] of cases) {
      const nodeRoot = join(dir, `node-${version}`);
      const fake = await buildFakeNodejs(fakes, 1, version);
      const installed = await rpmInstall(nodeRoot, fake);
      expect(installed.code, installed.stderr).toBe(0);
      // The plain name with a version, as the old spec had it, is met by both: the epoch wins.
      expect(await unmetDependencies(nodeRoot, oldStyle)).toEqual([]);
      const unmet = await unmetDependencies(nodeRoot, client.rpmPath);
      // The scratch root has no libc: only the Node.js requirement matters here.
      const nodeUnmet = unmet.filter((dep) => dep.includes("node"));
      expect(nodeUnmet, `with nodejs 1:${version}`).toEqual(
        satisfies ? [] : ["nodejs(engine) >= 20"],
      );
    }
  });

  it("has no /usr/bin/env shebang in any file: scripts name /usr/bin/node or /bin/sh", async () => {
    const found = await shebangs(root);
    expect(found.length).toBeGreaterThanOrEqual(3); // the wrapper, cli.js, dist/cli.js
    expect(found.filter(({ line }) => line.includes("/usr/bin/env"))).toEqual([]);
    expect(new Set(found.map(({ line }) => line.split(/\s/)[0]))).toEqual(
      new Set(["#!/usr/bin/node", "#!/bin/sh"]),
    );
    expect(await rpmQuery("--requires")).not.toContain("/usr/bin/env");
    expect((await rpmQuery("--requires")).split("\n")).toContain("/usr/bin/node");
  });

  it("marks as %license osad2's LICENSE and the licence text of every npm package it bundles", async () => {
    const licenseDir = "/usr/share/licenses/osad2-client-web01";
    const flags = (await rpmQuery("--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]"))
      .trim()
      .split("\n");
    const licenseFiles = flags
      .filter((line) => / \S*l\S*$/.test(line))
      .map((line) => line.split(" ")[0] ?? "");
    expect(licenseFiles).toContain(`${licenseDir}/LICENSE`);
    expect(await readFile(join(root, licenseDir, "LICENSE"), "utf8")).toBe(
      await readFile(PROJECT_LICENSE, "utf8"),
    );
    // What is bundled, found independently of the packager: esbuild's own account of the client
    // bundle, and the packages installed under node_modules.
    const bundled = new Map<string, string>(); // name@version → package dir
    for (const pkgDir of await inlinedPackages()) {
      const pkg = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8")) as {
        name: string;
        version: string;
      };
      if (!pkg.name.startsWith("@osad2/")) bundled.set(`${pkg.name}@${pkg.version}`, pkgDir);
    }
    const nodeModules = join(root, CLIENT_PATHS.libDir, "node_modules");
    for (const name of await readdir(nodeModules)) {
      const pkg = JSON.parse(await readFile(join(nodeModules, name, "package.json"), "utf8")) as {
        name: string;
        version: string;
      };
      bundled.set(`${pkg.name}@${pkg.version}`, join(nodeModules, name));
    }
    expect(bundled.size).toBeGreaterThanOrEqual(16);
    for (const id of bundled.keys()) {
      const at = id.lastIndexOf("@");
      const dirName = `${licenseDir}/${id.slice(0, at)}-${id.slice(at + 1)}/`;
      expect(
        licenseFiles.filter((path) => path.startsWith(dirName)),
        id,
      ).not.toEqual([]);
    }
    // A package's own licence text, byte for byte (pino's, from its package).
    const pinoId = [...bundled.keys()].find((id) => id.startsWith("pino@")) ?? "pino@?";
    const pinoDir = bundled.get(pinoId) ?? "";
    expect(
      await readFile(join(root, licenseDir, pinoId.replace("@", "-"), "LICENSE"), "utf8"),
    ).toBe(await readFile(join(pinoDir, "LICENSE"), "utf8"));
    // zeromq's addon links libsodium statically; its ISC notice is there too.
    expect(await readFile(join(root, licenseDir, "libsodium", "LICENSE"), "utf8")).toContain(
      "ISC License",
    );
  });

  it("states the supported systems, which the addon's glibc and libstdc++ needs allow", async () => {
    const requires = await rpmQuery("--requires");
    const highest = (prefix: string): number[] =>
      [...requires.matchAll(new RegExp(`\\(${prefix}_([\\d.]+)\\)`, "g"))]
        .map((match) => (match[1] ?? "").split(".").map(Number))
        .sort((a, b) => a.reduce((acc, v, i) => acc || v - (b[i] ?? 0), 0))
        .at(-1) ?? [];
    const glibc = highest("GLIBC");
    const glibcxx = highest("GLIBCXX");
    // The oldest stated systems: SLES 15 (glibc 2.26, GCC 7's libstdc++: GLIBCXX_3.4.24), EL 8 (2.28).
    expect(glibc.length).toBeGreaterThan(0);
    expect(glibc[0] === 2 && (glibc[1] ?? 0) <= 26).toBe(true);
    expect(glibcxx[0] === 3 && glibcxx[1] === 4 && (glibcxx[2] ?? 0) <= 24).toBe(true);
    const description = (await rpmQuery("--qf", "%{DESCRIPTION}")).replace(/\s+/g, " ");
    expect(description).toContain(
      `glibc ${glibc.join(".")} and libstdc++ GLIBCXX_${glibcxx.join(".")} or later`,
    );
    expect(description).toContain("EL 8, 9 and 10");
    expect(description).toContain("SLES and openSUSE Leap 15");
    for (const line of (await rpmQuery("--qf", "%{DESCRIPTION}")).split("\n"))
      expect(line.length).toBeLessThanOrEqual(79);
  });

  it("ships osad2-client(8), generated from the program's definition, which man renders without warnings", async () => {
    const page = join(root, "usr/share/man/man8/osad2-client.8.gz");
    const rendered = await run("man", ["--warnings", "-l", page], {
      env: { ...process.env, MANWIDTH: "80" },
    });
    expect(rendered.stderr).toBe("");
    expect(rendered.code).toBe(0);
    for (const text of [
      "osad2-client run",
      "osad2-client register",
      "osad2-client status",
      "--server-host",
      "/etc/rhn/osad2-client/osad_client.cfg",
    ])
      expect(rendered.stdout.replace(/‐/g, "-")).toContain(text);
  });

  it("ships the bash completion of osad2-client, which completes its commands in a real bash", async () => {
    const script = join(root, "usr/share/bash-completion/completions/osad2-client");
    expect(await bashSyntaxErrors(script)).toBe("");
    expect(await bashComplete(script, ["osad2-client", "reg"])).toEqual(["register"]);
  });
});

describe("createClientPackage: the systemd scriptlets", () => {
  let scripts: { post: string; preun: string; postun: string };
  beforeAll(async () => {
    const [post, preun, postun] = await Promise.all(
      ["%{POSTIN}", "%{PREUN}", "%{POSTUN}"].map((tag) => rpmQuery("--qf", tag)),
    );
    scripts = { post: post ?? "", preun: preun ?? "", postun: postun ?? "" };
  });

  it("are the %systemd_post/%systemd_preun/%systemd_postun_with_restart logic, never conditional on a running systemd", async () => {
    const all = await rpmQuery("--scripts");
    expect(all).not.toContain("/run/systemd/system");
    expect(scripts.post).toMatch(
      /if \[ \$1 -eq 1 \]; then[^\n]*\n(.*\n)*\s*systemctl --no-reload preset osad2-client\.service/,
    );
    expect(scripts.preun).toMatch(
      /if \[ \$1 -eq 0 \]; then[^\n]*\n(.*\n)*\s*systemctl --no-reload disable --now osad2-client\.service/,
    );
    expect(scripts.postun).toMatch(
      /if \[ \$1 -ge 1 \]; then[^\n]*\n(.*\n)*\s*systemctl try-restart osad2-client\.service/,
    );
  });

  it("enable the unit on install without a running systemd (kickstart, image builds), even under a 'disable *' preset", async () => {
    // The installed tree from beforeAll is the image; RHEL's 99-default-disable.preset says "disable *".
    const image = join(dir, "image");
    const install = await rpmInstall(image, client.rpmPath);
    expect(install.code, install.stderr).toBe(0);
    await mkdir(join(image, "usr/lib/systemd/system-preset"), { recursive: true });
    await writeFile(
      join(image, "usr/lib/systemd/system-preset/99-default-disable.preset"),
      "disable *\n",
    );
    const wants = join(image, "etc/systemd/system/multi-user.target.wants/osad2-client.service");
    const calls = await runScriptlet(scripts.post, 1, image, dir);
    expect(calls[0]).toBe("--no-reload preset osad2-client.service");
    expect((await lstat(wants)).isSymbolicLink()).toBe(true);
    expect(await readlink(wants)).toBe(CLIENT_PATHS.unit);

    // An upgrade's %post changes nothing; its %postun restarts a running client (new keys).
    expect(await runScriptlet(scripts.post, 2, image, dir)).toEqual([]);
    expect(await runScriptlet(scripts.postun, 1, image, dir)).toEqual([
      "try-restart osad2-client.service",
    ]);
    // Erase: %preun stops and disables it.
    expect(await runScriptlet(scripts.preun, 0, image, dir)).toEqual([
      "--no-reload disable --now osad2-client.service",
    ]);
    await expect(lstat(wants)).rejects.toThrow();
  });
});

/** The package directories esbuild inlines into the client bundle, by esbuild's own metafile. */
async function inlinedPackages(): Promise<string[]> {
  const clientPkg = createRequire(import.meta.url).resolve("@osad2/client/package.json");
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [join(dirname(clientPkg), "dist", "cli.js")],
    bundle: true,
    platform: "node",
    format: "esm",
    external: ["zeromq"],
    write: false,
    metafile: true,
    outfile: join(dir, "inlined.js"),
    logLevel: "silent",
  });
  const dirs = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(resolve(input));
    if (match?.[1] !== undefined) dirs.add(match[1]);
  }
  return [...dirs];
}
