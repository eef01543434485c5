// The man page and bash completion each CLI ships (dist/man, dist/completions, built from its
// commander program): man renders them without a warning, they name every command and option the
// program parses — commands added later appear without anyone touching the docs — and the
// completion completes a command and an option in a real bash.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { describeProgram, type CliDocs, type CommandDoc } from "@osad2/service-kit";
import { bashComplete, bashSyntaxErrors, readManPage } from "@osad2/test-helpers";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const clis = [
  { pkg: "server", bin: "osad2-server", page: "osad2-server.8" },
  { pkg: "client", bin: "osad2-client", page: "osad2-client.8" },
  { pkg: "packager", bin: "osad2-packager", page: "osad2-packager.1" },
  { pkg: "proxy", bin: "osad2-proxy", page: "osad2-proxy.8" },
] as const;

const everyCommand = (command: CommandDoc): CommandDoc[] => [
  command,
  ...command.commands.filter((c) => c.name !== "help").flatMap(everyCommand),
];

describe.each(clis)("$bin", ({ pkg, bin, page }) => {
  const dist = path.join(root, "packages", pkg, "dist");

  async function program(): Promise<CommandDoc> {
    // The build-time module the docs were written from (not shipped: files excludes it).
    const module = (await import(pathToFileURL(path.join(dist, "cli-docs.js")).href)) as {
      cliDocs: CliDocs;
    };
    return describeProgram(module.cliDocs.program());
  }

  it(`man renders ${page} without warnings, naming every command, argument and option`, async () => {
    const man = await readManPage(path.join(dist, "man", page));
    expect(man.warnings).toBe("");
    const commands = everyCommand(await program());
    // The program and its commands (osad2-proxy has one: run).
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const command of commands) {
      expect(man.text).toContain(command.path.join(" "));
      for (const argument of command.arguments) expect(man.text).toContain(argument.term);
      for (const option of command.options) expect(man.text).toContain(option.term);
    }
  });

  it("its bash completion passes bash -n and completes every command and its options", async () => {
    const script = path.join(dist, "completions", `${bin}.bash`);
    expect(await bashSyntaxErrors(script)).toBe("");
    const top = await program();
    expect(await bashComplete(script, [bin, ""])).toEqual(top.commands.map((c) => c.name));
    for (const command of everyCommand(top).slice(1)) {
      const words = command.path.slice(0, -1);
      expect(await bashComplete(script, [...words, command.name.slice(0, 3)])).toContain(
        command.name,
      );
      expect(await bashComplete(script, [...command.path, "--"])).toEqual(
        command.options.flatMap((o) => o.names).filter((n) => n.startsWith("--")),
      );
    }
  });
});
