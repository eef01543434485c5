// What a commander program accepts, read from the program object itself through commander's Help
// API (the same methods --help prints with), so man pages and completion cannot drift from it.
import type { Command, Help, Option } from "commander";

/** One option as the docs show it. */
export interface OptionDoc {
  /** As --help shows it: `-c, --config <file>`. */
  readonly term: string;
  /** The description with commander's `(default: …)` and `(choices: …)`. */
  readonly description: string;
  /** Every spelling: `["-c", "--config"]`. */
  readonly names: readonly string[];
  /** `required`: the next word is its value; `optional`: `--flag [value]`; `none`: a switch. */
  readonly value: "required" | "optional" | "none";
  /** The value's placeholder without brackets (`file`), or undefined for a switch. */
  readonly valueName?: string;
  readonly choices?: readonly string[];
}

/** One positional argument. */
export interface ArgumentDoc {
  /** As --help shows it: `system`. */
  readonly term: string;
  readonly description: string;
  readonly required: boolean;
}

/** A program or one of its (sub)commands. */
export interface CommandDoc {
  /** The command's own name (`list`). */
  readonly name: string;
  /** From the program down: `["osad2-packager", "keys", "list"]`. */
  readonly path: readonly string[];
  /** `osad2-packager keys list [options]`. */
  readonly usage: string;
  readonly description: string;
  readonly arguments: readonly ArgumentDoc[];
  readonly options: readonly OptionDoc[];
  readonly commands: readonly CommandDoc[];
}

function optionDoc(help: Help, option: Option): OptionDoc {
  const names = [option.short, option.long].filter((n): n is string => n !== undefined);
  const value = option.required ? "required" : option.optional ? "optional" : "none";
  const valueName = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  return {
    term: help.optionTerm(option),
    description: help.optionDescription(option),
    names,
    value,
    ...(value !== "none" && valueName !== undefined ? { valueName } : {}),
    ...(option.argChoices === undefined ? {} : { choices: option.argChoices }),
  };
}

/** The program and every command below it, as commander's help sees them (hidden ones left out). */
export function describeProgram(program: Command): CommandDoc {
  return describe(program, [program.name()]);
}

function describe(command: Command, path: readonly string[]): CommandDoc {
  const help = command.createHelp();
  return {
    name: command.name(),
    path,
    usage: `${[...path.slice(0, -1), command.name()].join(" ")} ${command.usage()}`.trim(),
    description: help.commandDescription(command),
    arguments: help.visibleArguments(command).map((argument) => ({
      term: help.argumentTerm(argument),
      description: help.argumentDescription(argument),
      required: argument.required,
    })),
    options: help.visibleOptions(command).map((option) => optionDoc(help, option)),
    commands: help.visibleCommands(command).map((sub) => describe(sub, [...path, sub.name()])),
  };
}

/** Every command below `root` (not `root` itself), depth first. */
export function allCommands(root: CommandDoc): CommandDoc[] {
  return root.commands.flatMap((command) => [command, ...allCommands(command)]);
}
