import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "@osad2/service-kit";
import { parseCliArgs, type PackagerCommand } from "../src/cli/parse.js";
import {
  DEFAULT_SERVER_CERTIFICATES_DIR,
  DEFAULT_SERVER_CONFIG_PATH,
  DEFAULT_OVERLAP_MS,
  DEFAULT_SERVER_STATE_DIR,
  PACKAGER_VERSION,
} from "../src/index.js";

/** The command parsed, or the exit code and the text the CLI would print. */
function parse(argv: string[]): {
  parsed: PackagerCommand | { kind: "exit"; code: number };
  out: string;
} {
  const result = parseCliArgs(argv);
  return result.kind === "run"
    ? { parsed: result.command, out: "" }
    : { parsed: { kind: "exit", code: result.code }, out: result.output };
}

const CERTS = DEFAULT_SERVER_CERTIFICATES_DIR;

describe("parseCommandLine: argv → options", () => {
  it.each<[string[], PackagerCommand]>([
    [
      ["createserver"],
      {
        kind: "createserver",
        options: { certificates: CERTS, config: DEFAULT_SERVER_CONFIG_PATH },
      },
    ],
    [
      ["createserver", "--certificates", "/c", "--config", "/e/s.cfg", "--force"],
      { kind: "createserver", options: { certificates: "/c", config: "/e/s.cfg", force: true } },
    ],
    [
      ["createserver", "--no-config"],
      { kind: "createserver", options: { certificates: CERTS, config: false } },
    ],
    [
      ["createclient", "--name", "web01"],
      {
        kind: "createclient",
        options: {
          name: "web01",
          certificates: CERTS,
          release: "1",
          overlapMs: DEFAULT_OVERLAP_MS,
        },
      },
    ],
    [
      [
        "createclient",
        "--name=db.example",
        "--certificates",
        "/c",
        "--server-host",
        "sw.example.com",
        "--out",
        "/o",
        "--keys-only",
        "--force",
        "--overlap",
        "12h",
        "--release",
        "4",
        "--arch",
        "aarch64",
        "--rpmbuild",
        "/opt/rpmbuild",
      ],
      {
        kind: "createclient",
        options: {
          name: "db.example",
          certificates: "/c",
          serverHost: "sw.example.com",
          out: "/o",
          keysOnly: true,
          force: true,
          overlapMs: 12 * 3600 * 1000,
          release: "4",
          arch: "aarch64",
          rpmbuild: "/opt/rpmbuild",
        },
      },
    ],
    [
      ["createclient", "--names-from", "names.txt", "--out", "/o"],
      {
        kind: "createclients",
        namesFrom: "names.txt",
        options: { certificates: CERTS, out: "/o", release: "1", overlapMs: DEFAULT_OVERLAP_MS },
      },
    ],
    [
      ["createclient", "--names-from", "n.txt", "--force", "--overlap", "0"],
      {
        kind: "createclients",
        namesFrom: "n.txt",
        options: { certificates: CERTS, force: true, release: "1", overlapMs: 0 },
      },
    ],
    [
      ["createclient", "--name", "w", "--overlap", "1.5d"],
      {
        kind: "createclient",
        options: { name: "w", certificates: CERTS, release: "1", overlapMs: 36 * 3600 * 1000 },
      },
    ],
    [
      ["keys", "list"],
      {
        kind: "keys-list",
        options: { certificates: CERTS, stateDir: DEFAULT_SERVER_STATE_DIR },
        json: false,
      },
    ],
    [
      ["keys", "list", "--json", "--certificates", "/c", "--state-dir", "/s"],
      { kind: "keys-list", options: { certificates: "/c", stateDir: "/s" }, json: true },
    ],
    [
      ["keys", "revoke", "web01", "--certificates", "/c"],
      { kind: "revokekey", options: { name: "web01", certificates: "/c" } },
    ],
    [
      ["keys", "revoke", "dmz", "--proxy"],
      { kind: "revokekey", options: { name: "dmz", certificates: CERTS, kind: "proxy" } },
    ],
    [
      ["keys", "revoke", "dmz", "--client"],
      { kind: "revokekey", options: { name: "dmz", certificates: CERTS, kind: "client" } },
    ],
    [
      ["createclient", "--name", "pos01", "--proxy", "branch7", "--server-host", "a,b:1"],
      {
        kind: "createclient",
        options: {
          name: "pos01",
          certificates: CERTS,
          proxy: "branch7",
          serverHost: "a,b:1",
          release: "1",
          overlapMs: DEFAULT_OVERLAP_MS,
        },
      },
    ],
    [
      ["createproxy", "dmz"],
      { kind: "createproxy", options: { name: "dmz", certificates: CERTS, release: "1" } },
    ],
    [
      [
        "createproxy",
        "branch7",
        "--parent",
        "dmz",
        "--host",
        "b7.example.com",
        "--upstream",
        "p1,p2:6000",
        "--out",
        "/o",
        "--certificates",
        "/c",
        "--no-rpm",
        "--release",
        "3",
        "--rpmbuild",
        "/opt/rpmbuild",
      ],
      {
        kind: "createproxy",
        options: {
          name: "branch7",
          parent: "dmz",
          host: "b7.example.com",
          upstream: "p1,p2:6000",
          out: "/o",
          certificates: "/c",
          noRpm: true,
          release: "3",
          rpmbuild: "/opt/rpmbuild",
        },
      },
    ],
    [
      // The contract's spellings of --out and --certificates.
      ["createproxy", "dmz", "--output", "/o", "--keys-dir", "/k"],
      {
        kind: "createproxy",
        options: { name: "dmz", out: "/o", certificates: "/k", release: "1" },
      },
    ],
    [
      ["revokeclient", "--name", "web01"],
      { kind: "revokeclient", options: { name: "web01", certificates: CERTS } },
    ],
    [
      ["revokeclient", "--name", "web01", "--certificates", "/c"],
      { kind: "revokeclient", options: { name: "web01", certificates: "/c" } },
    ],
  ])("%j", (argv, expected) => {
    const { parsed, out } = parse(argv);
    expect(out).toBe("");
    expect(parsed).toEqual(expected);
  });

  it("passes names the library must judge (it, not the parser, refuses them)", () => {
    expect(parse(["createclient", "--name", "a/b c"]).parsed).toMatchObject({
      options: { name: "a/b c" },
    });
  });
});

describe("parseCommandLine: help, version and usage errors", () => {
  it("prints help and the version with exit code 0", () => {
    const help = parse(["--help"]);
    expect(help.parsed).toEqual({ kind: "exit", code: EXIT_OK });
    expect(help.out).toContain("createserver");
    expect(help.out).toContain("createclient");
    const clientHelp = parse(["createclient", "--help"]);
    expect(clientHelp.parsed).toEqual({ kind: "exit", code: EXIT_OK });
    for (const flag of [
      "--name",
      "--names-from",
      "--certificates",
      "--server-host",
      "--out",
      "--keys-only",
      "--force",
      "--release",
    ]) {
      expect(clientHelp.out).toContain(flag);
    }
    const version = parse(["--version"]);
    expect(version.parsed).toEqual({ kind: "exit", code: EXIT_OK });
    expect(version.out.trim()).toBe(PACKAGER_VERSION);
  });

  it.each([
    [[], "Usage"],
    [["frobnicate"], "unknown command"],
    [["createclient"], "needs --name NAME or --names-from FILE"],
    [["createclient", "--name", "a", "--names-from", "f"], "cannot be used with"],
    [["createclient", "--name"], "argument missing"],
    [["createserver", "--bogus"], "unknown option"],
    [
      ["createclient", "--name", "a", "--overlap", "7"],
      "use 0 (revoke the old key now) or a number with a unit",
    ],
    [["createclient", "--name", "a", "--overlap", "-1d"], "is not a duration"],
    [["createclient", "--name", "a", "--overlap", "400d"], "not between 0 and a year"],
    [["keys", "revoke"], "missing required argument"],
    [["keys", "revoke", "x", "--client", "--proxy"], "cannot be used with"],
    [["createproxy"], "missing required argument"],
    [["createproxy", "dmz", "--out", "/a", "--output", "/b"], "cannot be used with"],
    [["createproxy", "dmz", "--certificates", "/a", "--keys-dir", "/b"], "cannot be used with"],
    [["keys", "list", "extra"], "too many arguments"],
  ])("%j is a usage error (exit 2)", (argv, message) => {
    const { parsed, out } = parse(argv);
    expect(parsed).toEqual({ kind: "exit", code: EXIT_USAGE });
    expect(out).toContain(message);
  });
});
