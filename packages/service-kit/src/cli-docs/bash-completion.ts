// A bash completion script for a commander program: command names at each level, each command's
// options, and for an option that takes a value its choices, or files/directories when its
// placeholder says so (<file>, <dir>). Data tables in bash associative arrays (bash 4) keyed by the
// command path, so nested commands (`keys list`) complete like top-level ones.
import { allCommands, type CommandDoc } from "./model.js";

/** `osad2-server` → `_osad2_server`. */
export function completionFunctionName(program: string): string {
  return `_${program.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** A bash single-quoted word. */
function sq(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** How the value of a value-taking option completes: `file`, `dir`, `words:a b`, or `none`. */
function valueCompletion(
  valueName: string | undefined,
  choices: readonly string[] | undefined,
): string {
  if (choices !== undefined && choices.length > 0) return `words:${choices.join(" ")}`;
  if (valueName !== undefined && /^(file|path)s?$|file$/i.test(valueName)) return "file";
  if (valueName !== undefined && /^dir(ectory)?s?$|dir$/i.test(valueName)) return "dir";
  return "none";
}

/** The table key of a command: `/` for the program, `/keys/list` below it. */
function keyOf(command: CommandDoc): string {
  return `/${command.path.slice(1).join("/")}`;
}

/** The script; install it as /usr/share/bash-completion/completions/<program>. */
export function renderBashCompletion(program: CommandDoc): string {
  const fn = completionFunctionName(program.name);
  const commands: string[] = [];
  const options: string[] = [];
  const values: string[] = [];
  for (const command of [program, ...allCommands(program)]) {
    const key = keyOf(command);
    commands.push(`    [${sq(key)}]=${sq(command.commands.map((c) => c.name).join(" "))}`);
    options.push(`    [${sq(key)}]=${sq(command.options.flatMap((o) => o.names).join(" "))}`);
    for (const option of command.options) {
      if (option.value !== "required") continue;
      const how = valueCompletion(option.valueName, option.choices);
      for (const name of option.names) values.push(`    [${sq(`${key}|${name}`)}]=${sq(how)}`);
    }
  }
  return `# bash completion for ${program.name}, generated from its command-line definition.
${fn}() {
  local -A commands=(
${commands.join("\n")}
  )
  local -A options=(
${options.join("\n")}
  )
  local -A values=(
${values.join("\n")}
  )
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]} at=/ i word next
  # The words before the cursor: a command name goes one level down, an option's value is skipped.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ -n \${values["\${at}|\${word}"]+set} ]]; then
      ((i++))
    elif [[ \${word} != -* ]]; then
      next=\${at%/}/\${word}
      [[ -n \${commands["\${next}"]+set} ]] && at=\${next}
    fi
  done
  COMPREPLY=()
  if ((COMP_CWORD > 1)) && [[ -n \${values["\${at}|\${prev}"]+set} ]]; then
    local how=\${values["\${at}|\${prev}"]}
    case \${how} in
      file) mapfile -t COMPREPLY < <(compgen -f -- "\${cur}") ;;
      dir) mapfile -t COMPREPLY < <(compgen -d -- "\${cur}") ;;
      words:*) mapfile -t COMPREPLY < <(compgen -W "\${how#words:}" -- "\${cur}") ;;
    esac
  elif [[ \${cur} == -* || -z \${commands["\${at}"]} ]]; then
    mapfile -t COMPREPLY < <(compgen -W "\${options["\${at}"]}" -- "\${cur}")
  else
    mapfile -t COMPREPLY < <(compgen -W "\${commands["\${at}"]}" -- "\${cur}")
  fi
  return 0
}
complete -F ${fn} ${program.name}
`;
}
