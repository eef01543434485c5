// A small man page generated from a commander program's own --help output (the program and each of
// its commands), so it always says what the packaged binary accepts. Gzipped, as brp-compress
// leaves man pages on EL, Fedora and SUSE.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const run = promisify(execFile);

/** `node <cli> ...args --help`, with a fixed width and no colour so the text is stable. */
async function helpOf(cli, args) {
  const env = { ...process.env, COLUMNS: "78", NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  const { stdout } = await run(process.execPath, [cli, ...args, "--help"], { env });
  return stdout;
}

/** The names under `Commands:` of a commander help text, without `help`. */
export function commandNames(help) {
  const section = help.split(/^Commands:$/m)[1] ?? "";
  return [...section.matchAll(/^ {2}(\S+)/gm)]
    .map((match) => match[1])
    .filter((name) => name !== "help");
}

/** roff-safe text: backslashes escaped, no line starting with a control character. */
function roff(text) {
  return text
    .replace(/\\/g, "\\e")
    .split("\n")
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join("\n");
}

/** The text after the Usage line and before the first section, i.e. the program's description. */
function descriptionOf(help) {
  const body = help.split("\n\n").slice(1);
  return (body.find((block) => !/^[A-Z][a-z]+:/.test(block)) ?? "").replace(/\s+/g, " ").trim();
}

/**
 * Builds `<name>.<section>.gz` for the CLI at `cli`: NAME and DESCRIPTION from its help, the
 * program's usage and every command's full help as preformatted sections, FILES and SEE ALSO.
 */
export async function manPage({ cli, name, section, date, source, files = [], seeAlso = [] }) {
  const main = await helpOf(cli, []);
  const description = descriptionOf(main);
  const commands = [];
  for (const command of commandNames(main)) {
    commands.push({ command, help: await helpOf(cli, [command]) });
  }
  const lines = [
    `.TH ${name.toUpperCase()} ${section} "${date}" "${source}" "System Administration"`,
    ".SH NAME",
    `${name} \\- ${roff(description)}`,
    ".SH SYNOPSIS",
    ...commands.map(({ command }) => `.B ${name} ${command}\n[\\fIoptions\\fR]\n.br`),
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
  if (files.length > 0) {
    lines.push(".SH FILES", ...files.flatMap(([path, what]) => [".TP", `.I ${path}`, roff(what)]));
  }
  if (seeAlso.length > 0) {
    // "systemctl(1)" → ".BR systemctl (1)", comma-separated.
    const refs = seeAlso.map((ref, i) => {
      const [, page, sec] = /^(.+)\((\w+)\)$/.exec(ref) ?? [ref, ref, ""];
      return `.BR ${page} (${sec})${i < seeAlso.length - 1 ? "," : ""}`;
    });
    lines.push(".SH SEE ALSO", ...refs);
  }
  return gzipSync(`${lines.join("\n")}\n`, { level: 9 });
}
