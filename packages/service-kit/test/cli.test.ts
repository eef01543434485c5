import { Command } from "commander";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  STATUS_EXIT,
  exitCodeFor,
  parseCommandLine,
  printParseExit,
  runCli,
} from "../src/index.js";

interface Parsed {
  readonly name: string;
  readonly verbose: boolean;
}

function build(record: (command: Parsed) => void): Command {
  const program = new Command("osad2-test").version("1.2.3");
  program
    .command("go")
    .option("--verbose", "say more")
    .action((options: { verbose?: boolean }) =>
      record({ name: "go", verbose: options.verbose === true }),
    );
  return program;
}

class KeyProblem extends Error {}

describe("parseCommandLine", () => {
  it.each([
    [["go"], { kind: "run", command: { name: "go", verbose: false } }],
    [["go", "--verbose"], { kind: "run", command: { name: "go", verbose: true } }],
    [["--version"], { kind: "exit", code: EXIT_OK, output: "1.2.3\n" }],
  ])("%j", (argv, expected) => {
    expect(parseCommandLine(build, argv)).toEqual(expected);
  });

  it("prints nothing itself: help exits 0, usage errors and no command exit 2 with the text", () => {
    const help = parseCommandLine(build, ["--help"]);
    expect(help).toMatchObject({ kind: "exit", code: EXIT_OK });
    expect(help.kind === "exit" && help.output).toMatch(/Usage: osad2-test/);
    const bad = parseCommandLine(build, ["go", "--nope"]);
    expect(bad).toMatchObject({ kind: "exit", code: EXIT_USAGE });
    expect(bad.kind === "exit" && bad.output).toMatch(/unknown option '--nope'/);
    const none = parseCommandLine(build, []);
    expect(none).toMatchObject({ kind: "exit", code: EXIT_USAGE });
    expect(none.kind === "exit" && none.output).toMatch(/Commands:/);
  });

  it("knows commander's errors by shape (each package may have its own commander copy)", () => {
    const failing = (error: Error) => (): Command =>
      new Command("x").action(() => {
        throw error;
      });
    const foreign = Object.assign(new Error("error: from another copy"), {
      code: "commander.invalidArgument",
      exitCode: 1,
    });
    expect(parseCommandLine(failing(foreign), [])).toMatchObject({
      kind: "exit",
      code: EXIT_USAGE,
    });
    expect(() => parseCommandLine(failing(new Error("a bug")), [])).toThrow("a bug");
    // command.error(message, { code }) with a code of the program's own
    const own = (record: (c: Parsed) => void): Command => {
      const program = new Command("x");
      program.action(() => {
        program.error("error: needs --name", { exitCode: EXIT_USAGE, code: "osad2.missingName" });
        record({ name: "never", verbose: false });
      });
      return program;
    };
    const missing = parseCommandLine(own, []);
    expect(missing).toMatchObject({ kind: "exit", code: EXIT_USAGE });
    expect(missing.kind === "exit" && missing.output).toContain("needs --name");
  });

  it("prints help to stdout and errors to stderr", () => {
    const out: string[] = [];
    const err: string[] = [];
    const streams = {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
    };
    expect(printParseExit({ kind: "exit", code: 0, output: "help" }, streams)).toBe(0);
    expect(printParseExit({ kind: "exit", code: 2, output: "bad" }, streams)).toBe(2);
    expect([out, err]).toEqual([["help"], ["bad"]]);
  });
});

describe("runCli", () => {
  async function run(
    main: () => Promise<number>,
  ): Promise<{ code: number | undefined; stderr: string }> {
    let code: number | undefined;
    let stderr = "";
    await runCli(main, {
      program: "osad2-test",
      usageErrors: [KeyProblem],
      stderr: { write: (text: string) => (stderr += text) },
      exit: (c) => {
        code = c;
      },
    });
    return { code, stderr };
  }

  it("exits with main's code, or prints one line and exits 2 for usage errors, 1 otherwise", async () => {
    expect(await run(async () => 3)).toEqual({ code: 3, stderr: "" });
    expect(await run(async () => Promise.reject(new ConfigError("bad key")))).toEqual({
      code: EXIT_USAGE,
      stderr: "osad2-test: bad key\n",
    });
    expect(await run(async () => Promise.reject(new KeyProblem("key file 0644")))).toEqual({
      code: EXIT_USAGE,
      stderr: "osad2-test: key file 0644\n",
    });
    expect(await run(async () => Promise.reject(new Error("server down")))).toEqual({
      code: EXIT_FAILURE,
      stderr: "osad2-test: server down\n",
    });
  });

  it("documents the status codes LSB scripts read", () => {
    expect(STATUS_EXIT).toEqual({ healthy: 0, unhealthy: 1, notRunning: 3, unknown: 4 });
    expect(exitCodeFor("thrown text")).toBe(EXIT_FAILURE);
  });
});
