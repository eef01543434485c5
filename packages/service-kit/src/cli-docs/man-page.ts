// A man(7) page for a commander program: NAME, SYNOPSIS, DESCRIPTION, every command with its
// arguments and options, the options several commands share (listed once), then FILES, EXIT STATUS
// and SEE ALSO as the caller gives them.
import { allCommands, type CommandDoc, type OptionDoc } from "./model.js";

/** What a page says besides the program's own definition. */
export interface ManPageInfo {
  /** 1 (user commands) or 8 (system administration). */
  readonly section: number;
  /** `YYYY-MM-DD`. */
  readonly date: string;
  /** Footer source, e.g. `osad2 0.1.0`. */
  readonly source: string;
  /** Paragraphs after the description. */
  readonly notes?: readonly string[];
  /** `[path, what]` for FILES. */
  readonly files?: ReadonlyArray<readonly [string, string]>;
  /** `[code, meaning]` for EXIT STATUS. */
  readonly exitStatus?: ReadonlyArray<readonly [string, string]>;
  /** `systemctl(1)` style references for SEE ALSO. */
  readonly seeAlso?: readonly string[];
}

/**
 * Text for a roff text line: backslashes escaped, no control character at the start, anything
 * beyond ASCII as a groff `\[uXXXX]` escape (troff reads its input as Latin-1 and warns).
 */
export function roffText(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(
      /[\u0080-\u{10ffff}]/gu,
      (c) => `\\[u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}]`,
    )
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join("\n");
}

/** Command-line text (option names, commands): also every `-` a real minus, as man(7) asks. */
function roffCode(text: string): string {
  return roffText(text).replace(/-/g, "\\-");
}

/** A macro argument in double quotes (a quote inside is `\(dq`). */
function quoted(text: string): string {
  return `"${roffCode(text).replace(/"/g, "\\(dq")}"`;
}

/** Fewer options than this that several commands share stay with each command. */
const MIN_SHARED_GROUP = 4;

const isHelpOption = (option: OptionDoc): boolean => option.names.includes("--help");
const optionKey = (option: OptionDoc): string => `${option.term}\0${option.description}`;

function optionItems(options: readonly OptionDoc[]): string[] {
  return options.flatMap((option) => [
    ".TP",
    `\\fB${roffCode(option.term)}\\fR`,
    roffText(option.description),
  ]);
}

/** "a", "a and b", "a, b and c". */
function listOf(names: readonly string[]): string {
  return names.length <= 1
    ? (names[0] ?? "")
    : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1] ?? ""}`;
}

/**
 * Groups the options two or more commands have alike (same term and description), by the set of
 * commands that have them, so a config flag every command takes is described once.
 */
function sharedGroups(
  commands: readonly CommandDoc[],
): Map<string, { commands: string[]; options: OptionDoc[] }> {
  const holders = new Map<string, string[]>();
  for (const command of commands) {
    for (const option of command.options) {
      if (isHelpOption(option)) continue;
      const key = optionKey(option);
      holders.set(key, [...(holders.get(key) ?? []), command.path.slice(1).join(" ")]);
    }
  }
  const groups = new Map<string, { commands: string[]; options: OptionDoc[] }>();
  for (const command of commands) {
    for (const option of command.options) {
      const names = holders.get(optionKey(option)) ?? [];
      if (names.length < 2 || isHelpOption(option)) continue;
      const id = names.join("\0");
      const group = groups.get(id) ?? { commands: names, options: [] };
      if (!group.options.some((o) => optionKey(o) === optionKey(option)))
        group.options.push(option);
      groups.set(id, group);
    }
  }
  for (const [id, group] of groups) if (group.options.length < MIN_SHARED_GROUP) groups.delete(id);
  return groups;
}

function seeAlsoLines(refs: readonly string[]): string[] {
  return refs.map((ref, i) => {
    const [, page = ref, section = ""] = /^(.+)\((\w+)\)$/.exec(ref) ?? [];
    return `.BR ${roffCode(page)} (${section})${i < refs.length - 1 ? "," : ""}`;
  });
}

/** The page's roff source (not compressed). Implicit `help` commands are mentioned, not listed. */
export function renderManPage(program: CommandDoc, info: ManPageInfo): string {
  const name = program.name;
  const commands = allCommands(program).filter((command) => command.name !== "help");
  const groups = sharedGroups(commands);
  const sharedBy = (command: CommandDoc): string[][] =>
    [...groups.values()]
      .filter((group) => group.commands.includes(command.path.slice(1).join(" ")))
      .map((group) => group.commands);
  const manual = info.section === 8 ? "System Administration" : "User Commands";
  const lines = [
    `.TH ${quoted(name.toUpperCase())} ${String(info.section)} ${quoted(info.date)} ${quoted(info.source)} ${quoted(manual)}`,
    // No hyphenation, ragged right: option names and paths are not words to split.
    ".nh",
    ".ad l",
    ".SH NAME",
    `${roffCode(name)} \\- ${roffText(program.description)}`,
    ".SH SYNOPSIS",
    ...(commands.length === 0
      ? [`\\fB${roffCode(program.usage)}\\fR`]
      : commands.flatMap((command) => [`\\fB${roffCode(command.usage)}\\fR`, ".br"])),
    `\\fB${roffCode(name)}\\fR \\fB\\-\\-help\\fR`,
    ".SH DESCRIPTION",
    roffText(program.description),
    ...(info.notes ?? []).flatMap((note) => [".PP", roffText(note)]),
    ".PP",
    commands.length === 0
      ? `\\fB${roffCode(name)} \\-\\-help\\fR prints the options.`
      : `\\fB${roffCode(name)}\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR (or \\fB${roffCode(name)} help\\fR \\fIcommand\\fR) prints a command's options.`,
    ".SH OPTIONS",
    ...optionItems(program.options),
  ];
  if (commands.length > 0) lines.push(".SH COMMANDS");
  for (const command of commands) {
    const id = command.path.slice(1).join(" ");
    const inGroup = (option: OptionDoc): boolean =>
      [...groups.values()].some(
        (group) =>
          group.commands.includes(id) &&
          group.options.some((o) => optionKey(o) === optionKey(option)),
      );
    const own = command.options.filter((option) => !isHelpOption(option) && !inGroup(option));
    lines.push(`.SS ${quoted(command.usage)}`, roffText(command.description));
    for (const argument of command.arguments) {
      lines.push(
        ".TP",
        `\\fI${roffCode(argument.term)}\\fR${argument.required ? "" : " (optional)"}`,
        roffText(argument.description),
      );
    }
    lines.push(...optionItems(own));
    const shared = sharedBy(command);
    if (shared.length > 0) {
      for (const names of shared) {
        const bold = names.map((n) => `\\fB${roffCode(n)}\\fR`);
        lines.push(".PP", `Also the options of ${listOf(bold)} (\\fBSHARED OPTIONS\\fR).`);
      }
    }
  }
  if (groups.size > 0) {
    lines.push('.SH "SHARED OPTIONS"');
    for (const group of groups.values()) {
      lines.push(
        `.SS ${quoted(`Options of ${listOf(group.commands)}`)}`,
        ...optionItems(group.options),
      );
    }
  }
  if ((info.files ?? []).length > 0) {
    lines.push(
      ".SH FILES",
      ...(info.files ?? []).flatMap(([path, what]) => [
        ".TP",
        `.I ${roffCode(path)}`,
        roffText(what),
      ]),
    );
  }
  if ((info.exitStatus ?? []).length > 0) {
    lines.push(
      '.SH "EXIT STATUS"',
      ...(info.exitStatus ?? []).flatMap(([code, what]) => [
        ".TP",
        `.B ${roffCode(code)}`,
        roffText(what),
      ]),
    );
  }
  if ((info.seeAlso ?? []).length > 0)
    lines.push('.SH "SEE ALSO"', ...seeAlsoLines(info.seeAlso ?? []));
  return `${lines.join("\n")}\n`;
}
