// A small man page generated from a commander program's own --help output (the program and each
// of its commands), so it says what the packaged binary accepts. Gzipped, as brp-compress leaves
// man pages on EL, Fedora and SUSE.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const run = promisify(execFile);

/** `node <cli> ...args --help`, with a fixed width and no colour so the text is stable. */
async function helpOf(cli: string, args: readonly string[]): Promise<string> {
  const { FORCE_COLOR: _forceColor, ...env } = process.env;
  const { stdout } = await run(process.execPath, [cli, ...args, "--help"], {
    env: { ...env, COLUMNS: "78", NO_COLOR: "1" },
  });
  return stdout;
}

/** The names under `Commands:` of a commander help text, without `help`. */
export function commandNames(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? "";
  return [...section.matchAll(/^ {2}(\S+)/gm)]
    .map((match) => match[1] ?? "")
    .filter((name) => name !== "help");
}

/** roff-safe text: backslashes escaped, no line starting with a control character. */
function roff(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .split("\n")
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join("\n");
}

/** The text after the Usage line and before the first section, i.e. the program's description. */
function descriptionOf(help: string): string {
  const body = help.split("\n\n").slice(1);
  return (body.find((block) => !/^[A-Z][a-z]+:/.test(block)) ?? "").replace(/\s+/g, " ").trim();
}

/** What {@link manPage} writes. */
export interface ManPageInput {
  /** The program's entry point, run with node. */
  readonly cli: string;
  readonly name: string;
  readonly section: number;
  /** `YYYY-MM-DD`. */
  readonly date: string;
  /** e.g. `osad2 0.1.0`. */
  readonly source: string;
  /** `[path, what]` for FILES. */
  readonly files?: ReadonlyArray<readonly [string, string]>;
  /** `systemctl(1)` style references for SEE ALSO. */
  readonly seeAlso?: readonly string[];
}

/** The gzipped page: NAME and DESCRIPTION from the help, every command's help preformatted, FILES, SEE ALSO. */
export async function manPage(input: ManPageInput): Promise<Buffer> {
  const main = await helpOf(input.cli, []);
  const description = descriptionOf(main);
  const commands: Array<{ command: string; help: string }> = [];
  for (const command of commandNames(main)) {
    commands.push({ command, help: await helpOf(input.cli, [command]) });
  }
  const lines = [
    `.TH ${input.name.toUpperCase()} ${String(input.section)} "${input.date}" "${input.source}" "System Administration"`,
    ".SH NAME",
    `${input.name} \\- ${roff(description)}`,
    ".SH SYNOPSIS",
    ...commands.map(({ command }) => `.B ${input.name} ${command}\n[\\fIoptions\\fR]\n.br`),
    ".SH DESCRIPTION",
    roff(description),
    ".PP",
    "Each command's options follow, as the program's own \\fB\\-\\-help\\fR prints them.",
    ".SH OPTIONS",
    ".nf",
    roff(main.trimEnd()),
    ".fi",
    ...commands.flatMap(({ command, help }) => [
      `.SS ${command}`,
      ".nf",
      roff(help.trimEnd()),
      ".fi",
    ]),
  ];
  const files = input.files ?? [];
  if (files.length > 0) {
    lines.push(".SH FILES", ...files.flatMap(([path, what]) => [".TP", `.I ${path}`, roff(what)]));
  }
  const seeAlso = input.seeAlso ?? [];
  if (seeAlso.length > 0) {
    // "systemctl(1)" → ".BR systemctl (1)", comma-separated.
    lines.push(
      ".SH SEE ALSO",
      ...seeAlso.map((ref, i) => {
        const [, page = ref, sec = ""] = /^(.+)\((\w+)\)$/.exec(ref) ?? [];
        return `.BR ${page} (${sec})${i < seeAlso.length - 1 ? "," : ""}`;
      }),
    );
  }
  return gzipSync(`${lines.join("\n")}\n`, { level: 9 });
}
