// Judging generated CLI docs with the real tools: man-db's man (groff underneath) and bash.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A man page as `man` renders it at 80 columns, and every warning groff printed. */
export async function readManPage(file: string): Promise<{ text: string; warnings: string }> {
  const { stdout, stderr } = await run("man", ["--warnings=all", "-l", file], {
    env: {
      ...process.env,
      MANWIDTH: "80",
      MAN_KEEP_FORMATTING: "",
      PAGER: "cat",
      LC_ALL: "C.UTF-8",
    },
  });
  // Not a terminal: man-db strips the bold and underline overstrikes (col -b), so this is plain text.
  return { text: stdout, warnings: stderr };
}

/** `bash -n`: the script parses; resolves with bash's complaints (empty when clean). */
export async function bashSyntaxErrors(script: string): Promise<string> {
  try {
    await run("bash", ["-n", script]);
    return "";
  } catch (error) {
    return (error as { stderr?: string }).stderr ?? String(error);
  }
}

/**
 * What a completion script offers for `words` (the program name first, the word being completed
 * last, possibly ""), run in a real bash as readline would: COMP_WORDS/COMP_CWORD set, the
 * function `complete -p` registered for the program called. `cwd` matters for file completion.
 */
export async function bashComplete(
  script: string,
  words: readonly string[],
  cwd?: string,
): Promise<string[]> {
  const driver = `source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}
spec=$(complete -p "$1") || exit 3
fn=\${spec#*-F }; fn=\${fn%% *}
"$fn" "$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run(
    "bash",
    ["--norc", "--noprofile", "-c", driver, "bash", script, ...words],
    {
      ...(cwd === undefined ? {} : { cwd }),
    },
  );
  return stdout.split("\n").filter((line) => line.length > 0);
}
