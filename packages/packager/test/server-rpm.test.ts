// The server RPM (osad2-packager serverrpm), built once, judged by rpm, rpmlint, systemd-analyze,
// man and by running the installed server; and rpmlint over every kind of RPM the packager builds.
import { bashComplete, bashSyntaxErrors, freePorts, waitFor } from "@osad2/test-helpers";
import { parse as parseIni } from "ini";
import { spawn } from "node:child_process";
import { mkdir, readFile, readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OutputDirError,
  SERVER_PATHS,
  createClientPackage,
  createProxyPackage,
  createServerKeys,
  createServerPackage,
} from "../src/index.js";
import {
  PACKAGER_README,
  PROJECT_LICENSE,
  TempDirs,
  buildFakeNodejs,
  rpmInstall,
  rpmlint,
  run,
  runPackager,
  shebangs,
  unmetDependencies,
} from "./helpers.js";

const temps = new TempDirs();
let dir: string;
let root: string;
let serverRpm: string;
let clientRpm: string;
let keysOnlyRpm: string;
let proxyRpm: string;

beforeAll(async () => {
  dir = await temps.make();
  root = join(dir, "root");
  const tmpDir = join(dir, "tmp");
  await mkdir(tmpDir);
  // Through the CLI, as an administrator builds it.
  const built = await runPackager(["serverrpm", "--out", join(dir, "rpms"), "--release", "2"]);
  if (built.code !== 0) throw new Error(`serverrpm failed: ${built.stderr}`);
  serverRpm = /^built (\S+)$/m.exec(built.stdout)?.[1] ?? "";
  const certificates = join(dir, "certs");
  await createServerKeys({ certificates, config: false });
  const common = { certificates, out: join(dir, "rpms"), serverHost: "sw.example.com", tmpDir };
  clientRpm = (await createClientPackage({ name: "lint01", ...common })).rpmPath;
  keysOnlyRpm = (await createClientPackage({ name: "lint02", keysOnly: true, ...common })).rpmPath;
  proxyRpm =
    (
      await createProxyPackage({
        name: "lint03",
        host: "proxy.example.com",
        certificates,
        out: common.out,
        tmpDir,
      })
    ).rpmPath ?? "";
  const install = await rpmInstall(root, serverRpm);
  if (install.code !== 0) throw new Error(`rpm -i failed: ${install.stderr}`);
}, 120_000);

afterAll(() => temps.removeAll());

const query = async (...args: string[]): Promise<string> => {
  const result = await run("rpm", ["-qp", ...args, serverRpm]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
};

describe("rpmlint on every RPM the packager builds (client, keys-only, proxy keys, server)", () => {
  let lint: Awaited<ReturnType<typeof rpmlint>>;
  beforeAll(async () => {
    // One run over all four: rpmlint reports a filter no package used as an error.
    lint = await rpmlint([clientRpm, keysOnlyRpm, proxyRpm, serverRpm]);
  }, 60_000);

  it("finds no error with the committed rpmlintrc, whose every filter is used", () => {
    expect(lint.errors, lint.output).toEqual([]);
    expect(lint.output).toContain("4 packages and 0 specfiles checked; 0 errors");
    expect(lint.code, lint.output).toBe(0);
  });

  it("leaves only warnings the packager README justifies", async () => {
    const kinds = new Set(lint.warnings.map((line) => / W: (\S+)/.exec(line)?.[1] ?? line));
    const readme = await readFile(PACKAGER_README, "utf8");
    const section = readme.split("### rpmlint")[1] ?? "";
    for (const kind of kinds) expect(section, `README justifies ${kind}`).toContain(`\`${kind}\``);
    // What the packages used to have and must not have again.
    for (const gone of [
      "env-script-interpreter",
      "no-packager-tag",
      "summary-not-capitalized",
      "no-documentation",
      "zero-length",
      "hidden-file-or-dir",
    ])
      expect(kinds.has(gone), gone).toBe(false);
  });
});

describe("createServerPackage: the RPM", () => {
  it("is osad2-server-VERSION-RELEASE.ARCH.rpm, 0644 (it holds no secret)", async () => {
    const [name, version, release, arch] = (
      await query("--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}")
    ).split(" ");
    expect(name).toBe("osad2-server");
    expect(release).toBe("2");
    expect(basename(serverRpm)).toBe(`osad2-server-${version ?? ""}-2.${arch ?? ""}.rpm`);
    expect((await stat(serverRpm)).mode & 0o777).toBe(0o644);
    const info = await query("-i");
    expect(info).toMatch(
      /^License\s+: GPL-2\.0-only AND Apache-2\.0 AND (\S+ AND )*MIT( AND \S+)*$/m,
    );
    expect(info).toMatch(/^Packager\s+: osad2-packager <root@\S+>$/m);
  });

  it("needs Node.js of the major its better-sqlite3 addon was built for (nodejs(engine), no epoch trap), setpriv and the user tools", async () => {
    const requires = (await query("--requires")).split("\n");
    const major = Number(process.versions.node.split(".")[0]);
    expect(requires).toContain(`nodejs(engine) >= ${major}`);
    expect(requires).toContain(`nodejs(engine) < ${major + 1}`);
    expect(requires).toContain("/usr/bin/setpriv");
    expect(requires).toContain("/usr/sbin/useradd");
    expect(requires.some((line) => line.includes("/usr/bin/env"))).toBe(false);
    // Interpreters: node for the scripts, sh for the scriptlets; no bash for a dependency's release script.
    const interpreters = requires.filter(
      (line) => line.startsWith("/bin/") || line === "/usr/bin/node",
    );
    expect(new Set(interpreters)).toEqual(new Set(["/bin/sh", "/usr/bin/node"]));
    expect((await query("--recommends")).trim()).toBe("logrotate");
    const provides = (await query("--provides")).split("\n");
    for (const pkg of ["knex", "pg", "better-sqlite3", "zeromq"])
      expect(
        provides.some((line) => line.startsWith(`bundled(nodejs-${pkg}) = `)),
        pkg,
      ).toBe(true);
    expect(provides.some((line) => /^bundled\(sqlite\) = 3\.\d+\.\d+$/.test(line))).toBe(true);

    const fakes = join(dir, "fakes");
    await mkdir(fakes, { recursive: true });
    for (const [version, ok] of [
      [`${major - 4}.20.2`, false],
      [`${major}.19.5`, true],
      [`${major + 2}.1.0`, false],
    ] as const) {
      const nodeRoot = join(dir, `node-${version}`);
      expect((await rpmInstall(nodeRoot, await buildFakeNodejs(fakes, 1, version))).code).toBe(0);
      const unmet = (await unmetDependencies(nodeRoot, serverRpm)).filter((dep) =>
        dep.startsWith("nodejs"),
      );
      expect(unmet.length === 0, `with nodejs 1:${version}: ${unmet.join(", ")}`).toBe(ok);
    }
  });

  it("lists config noreplace 0640 root:osad2, the key directories owned by osad2 (private_keys 0700), and no key", async () => {
    const entries = new Map<string, string>();
    for (const line of (await query("-lv")).trim().split("\n")) {
      const fields = line.trim().split(/\s+/);
      entries.set(fields.at(-1) ?? "", `${fields[0] ?? ""} ${fields[2] ?? ""} ${fields[3] ?? ""}`);
    }
    const p = SERVER_PATHS;
    expect(entries.get(p.config)).toBe("-rw-r----- root osad2");
    expect(entries.get(p.configDir)).toBe("drwxr-xr-x root root");
    expect(entries.get(p.certsDir)).toBe("drwxr-xr-x osad2 osad2");
    expect(entries.get(p.privateKeysDir)).toBe("drwx------ osad2 osad2");
    expect(entries.get(p.publicKeysDir)).toBe("drwxr-xr-x osad2 osad2");
    expect(entries.get(p.revokedDir)).toBe("drwxr-xr-x osad2 osad2");
    expect(entries.get(p.retiringDir)).toBe("drwxr-xr-x osad2 osad2");
    expect(entries.get(p.proxiesDir)).toBe("drwxr-xr-x osad2 osad2");
    expect(entries.get(p.stateDir)).toBe("drwxr-xr-x osad2 osad2");
    expect(entries.get(p.logDir)).toBe("drwxr-xr-x osad2 osad2");
    expect(entries.get(p.bin)).toBe("-rwxr-xr-x root root");
    expect(entries.get(p.unit)).toBe("-rw-r--r-- root root");
    expect(entries.get(p.dropIn)).toBe("-rw-r--r-- root root");
    expect(entries.get(p.logrotate)).toBe("-rw-r--r-- root root");
    expect(entries.get(p.firewalld)).toBe("-rw-r--r-- root root");
    expect(entries.get(p.firewalldProxies)).toBe("-rw-r--r-- root root");
    expect(entries.get(p.sysusers)).toBe("-rw-r--r-- root root");
    expect(entries.get("/usr/share/man/man8/osad2-server.8.gz")).toBe("-rw-r--r-- root root");
    expect(entries.get("/usr/share/bash-completion/completions/osad2-server")).toBe(
      "-rw-r--r-- root root",
    );
    expect([...entries.keys()].some((path) => path.includes("key_secret"))).toBe(false);
    const flags = (await query("--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]")).trim().split("\n");
    expect(flags.filter((line) => / \S*c\S*$/.test(line)).sort()).toEqual(
      [`${p.logrotate} cn`, `${p.config} cn`].sort(),
    );
  });

  it("refuses a --server-dir that holds no installed @osad2/server, naming it", async () => {
    const notServer = join(dir, "not-a-server");
    await mkdir(notServer);
    const result = await runPackager([
      "serverrpm",
      "--server-dir",
      notServer,
      "--out",
      join(dir, "none"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^osad2-packager: @osad2\/server \S*not-a-server is not an installed @osad2\/server: /,
    );
    await expect(stat(join(dir, "none"))).rejects.toThrow();
  });

  it("is not replaced without force: OutputDirError before anything is built", async () => {
    await expect(createServerPackage({ out: join(dir, "rpms"), release: "2" })).rejects.toThrow(
      OutputDirError,
    );
    await expect(createServerPackage({ out: join(dir, "rpms"), release: "2" })).rejects.toThrow(
      /already holds osad2-server-.*-2\..*\.rpm \(pass --force/,
    );
  });

  it("creates the osad2 user in %pre and handles the unit with the systemd macros (disabled until enabled)", async () => {
    const pre = await query("--qf", "%{PREIN}");
    expect(pre).toContain(
      "getent passwd osad2 >/dev/null || useradd -r -g osad2 -d /var/lib/osad2 -s /sbin/nologin",
    );
    const scripts = await query("--scripts");
    expect(scripts).not.toContain("/run/systemd/system");
    expect(scripts).toContain("systemctl --no-reload preset osad2-server.service");
    expect(scripts).toContain("systemctl --no-reload disable --now osad2-server.service");
    expect(scripts).toContain("systemctl try-restart osad2-server.service");
    expect(scripts).not.toContain("systemctl start");
    const sysusers = await readFile(join(root, SERVER_PATHS.sysusers), "utf8");
    expect(sysusers).toMatch(/^u osad2 - "osad2 server" \/var\/lib\/osad2$/m);
  });
});

describe("createServerPackage: the installed tree (rpm -i --root --nodeps --noscripts)", () => {
  it("installs @osad2/server's own unit and a drop-in that systemd-analyze parses: User=osad2, the packaged binary, keys made on first start", async () => {
    const unit = await readFile(join(root, SERVER_PATHS.unit), "utf8");
    const serverUnit = createRequireResolve("@osad2/server/package.json").replace(
      /package\.json$/,
      "dist/systemd/osad2-server.service",
    );
    expect(unit).toBe(await readFile(serverUnit, "utf8"));
    const dropIn = await readFile(join(root, SERVER_PATHS.dropIn), "utf8");
    expect(dropIn).toMatch(/^User=osad2$/m);
    expect(dropIn).toMatch(
      /^ExecStart=\nExecStart=\/usr\/bin\/osad2-server run --config \/etc\/rhn\/osad2-server\/osad_server\.cfg$/m,
    );
    expect(dropIn).toMatch(
      /^ExecStartPre=\+\/usr\/bin\/setpriv --reuid=osad2 --regid=osad2 --init-groups \/usr\/bin\/osad2-server init --config /m,
    );
    const verify = await run("systemd-analyze", ["--root", root, "verify", SERVER_PATHS.unitName]);
    // The scratch root has no systemd targets and no /usr/bin/setpriv or /bin/kill; anything else is a finding.
    const findings = verify.stderr
      .split("\n")
      .filter((line) => line.trim() !== "")
      .filter(
        (line) =>
          !/sysinit\.target not found|Command \/(usr\/bin\/setpriv|bin\/kill) is not executable/.test(
            line,
          ),
      );
    expect(findings).toEqual([]);
    expect(verify.stderr).toContain("setpriv"); // it did read the drop-in
  });

  it("has a config (0640) with the certificates path, every other key a commented default, and private_keys/ 0700", async () => {
    const text = await readFile(join(root, SERVER_PATHS.config), "utf8");
    expect(text).toContain("written by the osad2-server RPM");
    expect((parseIni(text) as { main: Record<string, string> }).main).toEqual({
      certificates: SERVER_PATHS.certsDir,
    });
    // As installed (rpm --noscripts: no osad2 user in the scratch root, so root owns them there).
    const installedMode = async (path: string): Promise<number> =>
      (await stat(join(root, path))).mode & 0o777;
    expect(await installedMode(SERVER_PATHS.config)).toBe(0o640);
    expect(await installedMode(SERVER_PATHS.privateKeysDir)).toBe(0o700);
    expect(await installedMode(SERVER_PATHS.publicKeysDir)).toBe(0o755);
    expect(await installedMode(SERVER_PATHS.bin)).toBe(0o755);
  });

  it("has logrotate and firewalld files for the log directory and the default ports", async () => {
    const logrotate = await readFile(join(root, SERVER_PATHS.logrotate), "utf8");
    expect(logrotate).toMatch(/^\/var\/log\/osad2\/\*\.log \{$/m);
    expect(logrotate).toMatch(/^\s+su osad2 osad2$/m);
    expect(logrotate).toContain("systemctl reload osad2-server.service");
    const firewalld = await readFile(join(root, SERVER_PATHS.firewalld), "utf8");
    const ports = [...firewalld.matchAll(/<port protocol="tcp" port="(\d+)"\/>/g)].map((m) => m[1]);
    expect(ports).toEqual(["5555", "5556", "5557"]);
    expect(firewalld).toMatch(
      /^<\?xml version="1\.0" encoding="utf-8"\?>\n<service>\n[\s\S]*<\/service>\n$/,
    );
    // The proxy port has a service of its own: open it to the proxies' zone only.
    const proxies = await readFile(join(root, SERVER_PATHS.firewalldProxies), "utf8");
    expect([...proxies.matchAll(/<port protocol="tcp" port="(\d+)"\/>/g)].map((m) => m[1])).toEqual(
      ["5558"],
    );
    expect(proxies).toContain("<short>osad2-server-proxies</short>");
  });

  it("has no /usr/bin/env shebang anywhere, and %license texts for osad2 and every bundled npm package", async () => {
    const found = await shebangs(root);
    expect(found.filter(({ line }) => line.includes("/usr/bin/env"))).toEqual([]);
    const licenses = "/usr/share/licenses/osad2-server";
    expect(await readFile(join(root, licenses, "LICENSE"), "utf8")).toBe(
      await readFile(PROJECT_LICENSE, "utf8"),
    );
    const flags = (await query("--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\\n]")).trim().split("\n");
    const licenseFiles = flags
      .filter((line) => / \S*l\S*$/.test(line))
      .map((line) => line.split(" ")[0] ?? "");
    // Every package installed under node_modules, found by walking the installed tree.
    const packages = await installedPackages(join(root, SERVER_PATHS.libDir, "node_modules"));
    expect(packages.size).toBeGreaterThan(40);
    for (const id of packages) {
      if (id.startsWith("@osad2/")) continue;
      const at = id.lastIndexOf("@");
      const prefix = `${licenses}/${id.slice(0, at)}-${id.slice(at + 1)}/`;
      expect(
        licenseFiles.some((path) => path.startsWith(prefix)),
        id,
      ).toBe(true);
    }
  });

  it("runs from the tree: init and status on a SQLite database in a temp dir, then serves until SIGTERM", async () => {
    const cli = join(root, SERVER_PATHS.libDir, "dist", "cli.js");
    const work = join(dir, "run");
    await mkdir(work);
    const [metrics, publisher, listener] = await freePorts(3);
    const flags = [
      "--config",
      join(root, SERVER_PATHS.config),
      "--db",
      `sqlite:${join(work, "osad2.db")}`,
      "--certificates",
      join(work, "certs"),
      "--bind",
      "127.0.0.1",
      "--metrics-port",
      String(metrics),
      "--publisher-port",
      String(publisher),
      "--listener-port",
      String(listener),
      "--xmlrpc-port",
      "0",
    ];
    const init = await run(process.execPath, [cli, "init", ...flags], { cwd: work });
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ schema: "created", keys: { created: true } });
    expect((await stat(join(work, "certs/private_keys/server.key_secret"))).mode & 0o777).toBe(
      0o600,
    );

    const child = spawn(process.execPath, [cli, "run", ...flags], {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    try {
      const status = await waitFor(
        "the installed server reports running",
        async () => {
          const result = await run(process.execPath, [cli, "status", ...flags], { cwd: work });
          const report = JSON.parse(result.stdout) as {
            running: boolean;
            database: { ok: boolean };
          };
          return report.running ? { code: result.code, report } : undefined;
        },
        { timeoutMs: 20_000 },
      );
      expect(status.code).toBe(0);
      expect(status.report.database.ok).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited, output).toBe(0);
  });

  it("ships osad2-server(8), generated from the program's definition, which man renders without warnings", async () => {
    const page = join(root, "usr/share/man/man8/osad2-server.8.gz");
    const rendered = await run("man", ["--warnings", "-l", page], {
      env: { ...process.env, MANWIDTH: "80" },
    });
    expect(rendered.stderr).toBe("");
    for (const text of [
      "osad2-server run",
      "osad2-server init",
      "osad2-server status",
      "--publisher-port",
      "/etc/rhn/osad2-server/osad_server.cfg",
    ])
      expect(rendered.stdout.replace(/‐/g, "-")).toContain(text);
  });

  it("ships the bash completion of osad2-server, which completes its commands in a real bash", async () => {
    const script = join(root, "usr/share/bash-completion/completions/osad2-server");
    expect(await bashSyntaxErrors(script)).toBe("");
    expect(await bashComplete(script, ["osad2-server", "st"])).toEqual(["status"]);
  });
});

/** A module's path, resolved from this test. */
function createRequireResolve(specifier: string): string {
  return createRequire(import.meta.url).resolve(specifier);
}

/** `name@version` of every package below a node_modules directory, nested ones too. */
async function installedPackages(nodeModules: string): Promise<Set<string>> {
  const ids = new Set<string>();
  async function walk(dirPath: string): Promise<void> {
    for (const entry of await readdir(dirPath, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(dirPath, entry.name);
      if (entry.name.startsWith("@")) {
        await walk(path);
        continue;
      }
      const pkg = JSON.parse(await readFile(join(path, "package.json"), "utf8")) as {
        name: string;
        version: string;
      };
      ids.add(`${pkg.name}@${pkg.version}`);
      const nested = join(path, "node_modules");
      if ((await stat(nested).catch(() => undefined))?.isDirectory()) await walk(nested);
    }
  }
  await walk(nodeModules);
  return ids;
}
