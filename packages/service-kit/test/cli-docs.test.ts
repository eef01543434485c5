// The man page and bash completion generator, judged by the real man (groff) and a real bash, on a
// program with what the osad2 CLIs use: nested commands, arguments, choices, value options, config
// flags several commands share, and text that roff would misread.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command, Option } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bashComplete,
  bashSyntaxErrors,
  readManPage,
  tempDir,
  type TempDir,
} from "@osad2/test-helpers";
import { describeProgram, docsDate, writeCliDocs, type CliDocs } from "../src/index.js";

function program(): Command {
  const root = new Command("osad2-demo")
    .description("demo — a program\\with a backslash")
    .version("1.0.0");
  for (const name of ["run", "status"]) {
    const sub = root.command(name).description(`${name} it`);
    sub.option("-c, --config <file>", "config file");
    for (const key of ["alpha", "beta", "gamma", "delta"])
      sub.option(`--${key} <value>`, `.${key} key`);
  }
  root.commands[0]?.option("-d, --detach", "in the background");
  const keys = root.command("keys").description("manage keys");
  keys.command("list").description("list keys").option("--json", "as JSON");
  keys
    .command("revoke")
    .description("revoke a key")
    .argument("<name>", "the key's name")
    .addOption(new Option("--reason <why>", "why").choices(["lost", "retired"]))
    .option("--certificates <dir>", "certificates directory");
  return root;
}

const docs: CliDocs = {
  program,
  section: 8,
  notes: ["'quoted' first, then .dotted"],
  files: [["/etc/demo.cfg", "configuration"]],
  exitStatus: [["0", "done"]],
  seeAlso: ["bash(1)", "man(1)"],
};

let tmp: TempDir;
let man: { text: string; warnings: string };
let completion: string;

beforeAll(async () => {
  tmp = await tempDir("osad2-cli-docs-");
  const written = await writeCliDocs(docs, tmp.path, { version: "1.0.0", date: "2026-12-02" });
  expect(written).toEqual({
    manPage: "man/osad2-demo.8",
    bashCompletion: "completions/osad2-demo.bash",
  });
  man = await readManPage(join(tmp.path, written.manPage));
  completion = join(tmp.path, written.bashCompletion);
  await mkdir(join(tmp.path, "cwd", "conf.d"), { recursive: true });
  await writeFile(join(tmp.path, "cwd", "config.cfg"), "");
});

afterAll(async () => {
  await tmp.remove();
});

describe("man page", () => {
  it("renders with man --warnings without a single warning", () => {
    expect(man.warnings).toBe("");
    expect(man.text).toMatch(/^OSAD2-DEMO\(8\)/);
  });

  it("names every command and every option of the program, and the given sections", () => {
    const model = describeProgram(program());
    const walk = (c: typeof model): Array<typeof model> => [c, ...c.commands.flatMap(walk)];
    for (const command of walk(model).filter((c) => c.name !== "help")) {
      expect(man.text).toContain(command.path.join(" "));
      for (const option of command.options) expect(man.text).toContain(option.term);
      for (const argument of command.arguments) expect(man.text).toContain(argument.term);
    }
    for (const text of [
      "demo — a program\\with a backslash",
      "'quoted' first, then .dotted",
      "/etc/demo.cfg",
      "EXIT STATUS",
      "bash(1), man(1)",
      '(choices: "lost", "retired")',
    ])
      expect(man.text).toContain(text);
  });

  it("describes the options several commands share once", () => {
    expect(man.text).toContain("SHARED OPTIONS");
    expect(man.text.split("--alpha <value>")).toHaveLength(2);
    expect(man.text).toContain("Also the options of run and status");
  });
});

describe("bash completion", () => {
  it("passes bash -n", async () => {
    expect(await bashSyntaxErrors(completion)).toBe("");
  });

  it("completes command names, nested ones too", async () => {
    expect(await bashComplete(completion, ["osad2-demo", ""])).toEqual([
      "run",
      "status",
      "keys",
      "help",
    ]);
    expect(await bashComplete(completion, ["osad2-demo", "st"])).toEqual(["status"]);
    expect(await bashComplete(completion, ["osad2-demo", "keys", "r"])).toEqual(["revoke"]);
  });

  it("completes a command's options, after other options and their values", async () => {
    expect(await bashComplete(completion, ["osad2-demo", "run", "--de"])).toEqual([
      "--delta",
      "--detach",
    ]);
    expect(
      await bashComplete(completion, ["osad2-demo", "status", "--alpha", "run", "--g"]),
    ).toEqual(["--gamma"]);
    expect(await bashComplete(completion, ["osad2-demo", "keys", "list", "--"])).toEqual([
      "--json",
      "--help",
    ]);
  });

  it("completes values: choices, files for <file>, directories for <dir>", async () => {
    const cwd = join(tmp.path, "cwd");
    expect(
      await bashComplete(completion, ["osad2-demo", "keys", "revoke", "--reason", ""]),
    ).toEqual(["lost", "retired"]);
    expect(await bashComplete(completion, ["osad2-demo", "run", "-c", "con"], cwd)).toEqual([
      "conf.d",
      "config.cfg",
    ]);
    expect(
      await bashComplete(completion, ["osad2-demo", "keys", "revoke", "--certificates", ""], cwd),
    ).toEqual(["conf.d"]);
    expect(await bashComplete(completion, ["osad2-demo", "run", "--alpha", ""])).toEqual([]);
  });
});

describe("docsDate", () => {
  it("is SOURCE_DATE_EPOCH's day when set, for reproducible builds", () => {
    expect(docsDate({ SOURCE_DATE_EPOCH: "1764633600" })).toBe("2025-12-02");
    expect(docsDate({})).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
