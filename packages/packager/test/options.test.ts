import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_OVERLAP_MS,
  DEFAULT_RELEASE,
  DEFAULT_SERVER_CERTIFICATES_DIR,
  DEFAULT_SERVER_CONFIG_PATH,
  InvalidNameError,
  InvalidOptionError,
  clientNameProblem,
  parseClientPackageOptions,
  parseOverlap,
  parseServerKeysOptions,
  rpmArchFor,
  rpmFileName,
  validateClientName,
} from "../src/index.js";
import { changelogDate } from "../src/spec.js";

describe("client names", () => {
  it.each(["web01", "a", "db-1.example.com", "A_b-c.d", "x".repeat(64), "-leading-dash", "_x"])(
    "accepts %j",
    (name) => {
      expect(clientNameProblem(name)).toBeUndefined();
      expect(validateClientName(name)).toBe(name);
    },
  );

  it.each([
    ["", "empty"],
    ["x".repeat(65), "longer than 64"],
    ["web/01", "only letters"],
    ["../etc", "only letters"],
    ["web 01", "only letters"],
    ["wéb", "only letters"],
    ["a\nb", "only letters"],
    [".hidden", "must not start with '.'"],
    ["..", "must not start with '.'"],
    ["server", "reserved"],
  ])("refuses %j (%s)", (name, reason) => {
    expect(clientNameProblem(name)).toContain(reason);
    expect(() => validateClientName(name)).toThrow(InvalidNameError);
    try {
      validateClientName(name);
    } catch (error) {
      expect((error as InvalidNameError).clientName).toBe(name);
      expect((error as Error).message).toContain(JSON.stringify(name));
    }
  });
});

describe("parseClientPackageOptions", () => {
  it("applies the defaults", () => {
    const opts = parseClientPackageOptions({ name: "web01" });
    expect(opts).toEqual({
      name: "web01",
      certificates: DEFAULT_SERVER_CERTIFICATES_DIR,
      serverHost: undefined,
      proxy: undefined,
      out: process.cwd(),
      keysOnly: false,
      force: false,
      overlapMs: DEFAULT_OVERLAP_MS,
      release: DEFAULT_RELEASE,
      arch: rpmArchFor(process.arch),
      rpmbuild: "rpmbuild",
      clientBundleDir: undefined,
      tmpDir: undefined,
    });
  });

  it("resolves paths, keeps releases as text, maps architectures, and keys-only is noarch", () => {
    const opts = parseClientPackageOptions({
      name: "n",
      certificates: "certs",
      out: "rpms",
      release: 7,
      arch: "arm64",
      serverHost: "[::1]",
    });
    expect(opts.certificates).toBe(resolve("certs"));
    expect(opts.out).toBe(resolve("rpms"));
    expect(opts.release).toBe("7");
    expect(opts.arch).toBe("aarch64");
    expect(opts.serverHost).toBe("::1");
    // A failover list, normalised as the client reads it back.
    expect(
      parseClientPackageOptions({ name: "n", serverHost: "sw1.example.com,[::1]:5556 ,10.0.0.2" })
        .serverHost,
    ).toBe("sw1.example.com, [::1]:5556, 10.0.0.2");
    expect(parseClientPackageOptions({ name: "n", keysOnly: true, arch: "sparc" }).arch).toBe(
      "noarch",
    );
    expect(parseClientPackageOptions({ name: "n", arch: "x86_64" }).arch).toBe("x86_64");
  });

  it.each([
    [{ release: "1-2" }, "release"],
    [{ release: "" }, "release"],
    [{ release: "1%{x}" }, "release"],
    [{ serverHost: "bad host" }, "serverHost"],
    [{ serverHost: "host\n%post" }, "serverHost"],
    [{ serverHost: "-dash.example" }, "serverHost"],
    [{ arch: "sparc" }, "arch"],
    [{ out: "" }, "out"],
    [{ certificates: "" }, "certificates"],
    [{ rpmbuild: "" }, "rpmbuild"],
  ])("refuses %j naming the option", (bad, option) => {
    try {
      parseClientPackageOptions({ name: "web01", ...bad });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toContain(option);
    }
  });

  it("reports a bad name before anything else", () => {
    expect(() => parseClientPackageOptions({ name: "a/b", release: "x-y" })).toThrow(
      InvalidNameError,
    );
  });
});

describe("parseServerKeysOptions", () => {
  it("applies defaults and honours config: false", () => {
    expect(parseServerKeysOptions()).toEqual({
      certificates: DEFAULT_SERVER_CERTIFICATES_DIR,
      config: DEFAULT_SERVER_CONFIG_PATH,
      force: false,
    });
    expect(parseServerKeysOptions({ certificates: "c", config: false, force: true })).toEqual({
      certificates: resolve("c"),
      config: false,
      force: true,
    });
  });
});

describe("RPM naming", () => {
  it("names files as rpmbuild does and maps Node architectures", () => {
    expect(rpmFileName({ name: "web01", version: "0.1.0", release: "3", arch: "x86_64" })).toBe(
      "osad2-client-web01-0.1.0-3.x86_64.rpm",
    );
    expect(rpmArchFor("x64")).toBe("x86_64");
    expect(rpmArchFor("arm64")).toBe("aarch64");
    expect(rpmArchFor("ia32")).toBeUndefined();
  });

  it("formats %changelog dates in UTC with the right weekday", () => {
    expect(changelogDate(new Date("2025-11-25T23:59:00Z"))).toBe("Tue Nov 25 2025");
    expect(changelogDate(new Date("2024-02-29T00:00:00Z"))).toBe("Thu Feb 29 2024");
    expect(changelogDate(new Date("2026-01-04T12:00:00Z"))).toBe("Sun Jan 04 2026");
  });
});

describe("parseOverlap (--overlap)", () => {
  it.each([
    ["0", 0],
    ["30s", 30_000],
    ["90m", 5_400_000],
    ["12h", 43_200_000],
    ["7d", 604_800_000],
    ["1.5d", 129_600_000],
    ["2w", 1_209_600_000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseOverlap(text)).toBe(ms);
  });

  it.each(["", "7", "7 days", "-1h", "d", "1y", "400d"])("refuses %j naming the option", (text) => {
    expect(() => parseOverlap(text)).toThrow(InvalidOptionError);
    expect(() => parseOverlap(text)).toThrow(/^invalid overlap: /);
  });

  it("validates overlapMs given to the library", () => {
    expect(() => parseClientPackageOptions({ name: "n", overlapMs: -1 })).toThrow(
      /invalid overlap/,
    );
    expect(parseClientPackageOptions({ name: "n", overlapMs: 0 }).overlapMs).toBe(0);
  });
});
