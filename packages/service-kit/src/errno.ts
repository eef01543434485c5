/** The errno code of a Node system error (`ENOENT`, `EACCES` …), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

/** A one-line description of any thrown value: an Error's message, anything else as text. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A system error phrased for a message that already names the path:
 * `EACCES: permission denied, open '/x'` → `permission denied (EACCES)`.
 */
export function describeSystemError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errnoCode(error);
  const text = error.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "");
  return code === undefined ? text : `${text} (${code})`;
}
