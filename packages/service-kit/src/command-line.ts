/**
 * Splits a command line into argv the way a POSIX shell does for plain words, quotes and
 * backslashes, without running a shell (nothing is expanded). undefined on unbalanced quotes.
 */
export function splitCommandLine(text: string): string[] | undefined {
  const argv: string[] = [];
  let current = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text.charAt(i + 1))) {
        current += text.charAt(++i);
      } else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text.charAt(++i);
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return undefined;
  if (inWord) argv.push(current);
  return argv;
}
