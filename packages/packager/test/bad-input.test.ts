// Every refusal: one typed error with a message a person can act on, and not one new file anywhere.
import { KeyStore } from "@osad2/keys";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  ClientBundleError,
  DuplicateClientError,
  InvalidNameError,
  MissingServerKeyError,
  OutputDirError,
  RpmBuildError,
  RpmbuildMissingError,
  createClientPackage,
  createServerKeys,
  type ClientPackageOptions,
} from "../src/index.js";
import {
  TempDirs,
  keysOnlyArgs,
  listTree,
  runPackager,
  runPackagerUnprivileged,
} from "./helpers.js";

const temps = new TempDirs();
afterEach(() => temps.removeAll());

interface Setup {
  dir: string;
  certificates: string;
  base: Omit<ClientPackageOptions, "name">;
}

async function setup(): Promise<Setup> {
  const dir = await temps.make();
  const certificates = join(dir, "certs");
  await createServerKeys({ certificates, config: false });
  await mkdir(join(dir, "tmp"));
  await mkdir(join(dir, "out"));
  return {
    dir,
    certificates,
    base: {
      certificates,
      out: join(dir, "out"),
      tmpDir: join(dir, "tmp"),
      serverHost: "sw.example",
      keysOnly: true,
    },
  };
}

/** Runs `action`, expects it to reject with `type`, and checks that the tree under `dir` did not change. */
async function expectRefused<E extends Error>(
  dir: string,
  action: () => Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  const before = await listTree(dir);
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).not.toContain("\n");
  expect(await listTree(dir)).toEqual(before);
  return error as E;
}

describe("createClientPackage refuses bad input and writes nothing", () => {
  it.each(["web/01", "web 01", "../../etc/passwd", "", ".x", "server", "x".repeat(65)])(
    "invalid name %j",
    async (name) => {
      const { dir, base } = await setup();
      const error = await expectRefused(
        dir,
        () => createClientPackage({ ...base, keysOnly: false, name }),
        InvalidNameError,
      );
      expect(error.clientName).toBe(name);
    },
  );

  it("duplicate name: a key in public_keys/ or an RPM in the output directory", async () => {
    const { dir, base, certificates } = await setup();
    const first = await createClientPackage({ ...base, name: "web01" });
    let error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, name: "web01" }),
      DuplicateClientError,
    );
    expect(error.path).toBe(join(certificates, "public_keys", "web01.key"));
    expect(error.message).toContain("--force");

    // Revoked key but its RPM still lying in --out: still refused, the RPM is not overwritten.
    const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    await store.revoke("web01");
    await store.close();
    error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, name: "web01" }),
      DuplicateClientError,
    );
    expect(error.path).toBe(first.rpmPath);
  });

  it("--force re-issues: new key in the allow-list, old key retiring (overlap 0: all old keys revoked), RPM replaced", async () => {
    const { base, certificates } = await setup();
    const first = await createClientPackage({ ...base, name: "web01" });
    const second = await createClientPackage({ ...base, name: "web01", force: true });
    expect(second.rpmPath).toBe(first.rpmPath);
    expect(second.publicKey).not.toBe(first.publicKey);
    expect(second.retiring?.publicKey).toBe(first.publicKey);
    const third = await createClientPackage({ ...base, name: "web01", force: true, overlapMs: 0 });
    expect(third.revoked?.map((k) => k.publicKey)).toEqual([second.publicKey, first.publicKey]);
    const store = await KeyStore.open(certificates, { pollIntervalMs: 0, fsWatch: false });
    try {
      expect(store.has(third.publicKey)).toBe(true);
      // Overlap 0: neither the replaced key nor the one still retiring stays allowed.
      expect(store.has(first.publicKey)).toBe(false);
      expect(store.has(second.publicKey)).toBe(false);
    } finally {
      await store.close();
    }
  });

  it("missing server key (and the certificates directory is not created)", async () => {
    const { dir, base } = await setup();
    const certificates = join(dir, "elsewhere");
    const error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, certificates, name: "web01" }),
      MissingServerKeyError,
    );
    expect(error.path).toBe(join(certificates, "public_keys", "server.key"));
    expect(error.message).toContain("does not exist");
    expect(error.message).toContain("osad2-packager createserver");
  });

  it("unreadable server key", async () => {
    const { dir, base, certificates } = await setup();
    await writeFile(join(certificates, "public_keys", "server.key"), "not a certificate\n");
    const error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, name: "web01" }),
      MissingServerKeyError,
    );
    expect(error.message).toContain("cannot be read");
  });

  it("output directory blocked by a file, or a file itself", async () => {
    const { dir, base } = await setup();
    await writeFile(join(dir, "afile"), "x");
    let error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, out: join(dir, "afile", "rpms"), name: "web01" }),
      OutputDirError,
    );
    expect(error.message).toContain("a file is in the way");
    error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, out: join(dir, "afile"), name: "web01" }),
      OutputDirError,
    );
    expect(error.message).toContain("is not a directory");
  });

  it("missing rpmbuild says how to install it", async () => {
    const { dir, base } = await setup();
    const error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, rpmbuild: join(dir, "no", "rpmbuild"), name: "web01" }),
      RpmbuildMissingError,
    );
    expect(error.message).toContain("apt-get install rpm");
    expect(error.message).toContain("dnf install rpm-build");
    await expectRefused(
      dir,
      () => createClientPackage({ ...base, rpmbuild: "no-such-rpmbuild-osad2", name: "web01" }),
      RpmbuildMissingError,
    );
  });

  it("a failing rpmbuild: RpmBuildError, temporary files removed, no key added", async () => {
    const { dir, base } = await setup();
    const error = await expectRefused(
      dir,
      () => createClientPackage({ ...base, rpmbuild: "/bin/false", name: "web01" }),
      RpmBuildError,
    );
    expect(error.exitCode).toBe(1);
    expect(typeof error.stderr).toBe("string");
  });

  it("a missing client bundle (full RPM)", async () => {
    const { dir, base } = await setup();
    await mkdir(join(dir, "empty"));
    const error = await expectRefused(
      dir,
      () =>
        createClientPackage({
          ...base,
          keysOnly: false,
          clientBundleDir: join(dir, "empty"),
          name: "web01",
        }),
      ClientBundleError,
    );
    expect(error.message).toContain("npm run build");
  });
});

describe("createClientPackage as an unprivileged user (permissions enforced)", () => {
  /** A deployment nobody can read, with its own writable HOME and TMPDIR. */
  async function sharedSetup(): Promise<Setup & { env: NodeJS.ProcessEnv }> {
    const s = await setup();
    await chmod(s.dir, 0o755);
    const home = join(s.dir, "home");
    await mkdir(home);
    await chmod(home, 0o777);
    await chmod(join(s.dir, "tmp"), 0o777);
    return { ...s, env: { ...process.env, HOME: home, TMPDIR: join(s.dir, "tmp") } };
  }

  /** `createclient --name web01 --keys-only` as nobody, with the tree of the deployment before it. */
  async function createWeb01(s: Setup & { env: NodeJS.ProcessEnv }) {
    const before = await listTree(s.dir);
    const result = await runPackagerUnprivileged(
      keysOnlyArgs(["--name", "web01"], s.certificates, join(s.dir, "out")),
      s.env,
    );
    return { before, result };
  }

  it("unwritable output directory: one line, exit 1, nothing written", async () => {
    const s = await sharedSetup();
    await chmod(join(s.dir, "out"), 0o555);
    const { before, result } = await createWeb01(s);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `osad2-packager: output directory ${join(s.dir, "out")} is not writable\n`,
    );
    expect(await listTree(s.dir)).toEqual(before);
  });

  it("key cannot be added to public_keys/: the built RPM is removed again", async () => {
    const s = await sharedSetup();
    await chmod(join(s.dir, "out"), 0o777);
    // Read-only allow-list: the RPM gets built and moved into place, then adding the key fails.
    const publicKeys = join(s.certificates, "public_keys");
    await chmod(publicKeys, 0o555);
    const { before, result } = await createWeb01(s);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^osad2-packager: cannot add the key of web01 to the allow-list, so its RPM was not kept: .*public_keys\/web01\.key.*\n$/,
    );
    expect(await listTree(s.dir)).toEqual(before);
  });
});

describe("osad2-packager createclient (CLI) errors", () => {
  it.each([
    [["--name", "web/01"], /^osad2-packager: invalid client name "web\/01": use only letters/],
    [["--name", "web 01"], /^osad2-packager: invalid client name "web 01"/],
    [["--name", "web01", "--release", "1-1"], /^osad2-packager: invalid --release: "1-1" must be/],
  ])("%j → one line on stderr, exit 2 (a usage error)", async (args, message) => {
    const { dir, certificates } = await setup();
    const before = await listTree(dir);
    const result = await runPackager(
      ["createclient", ...args, "--certificates", certificates, "--out", join(dir, "out")],
      {
        env: { ...process.env, TMPDIR: join(dir, "tmp") },
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).toBe("");
    expect(await listTree(dir)).toEqual(before);
  });
});
