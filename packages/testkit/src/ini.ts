/** Writes a one-section INI file body; values are written as given (numbers as decimals). */
export function iniSection(
  section: string,
  values: Record<string, string | number | boolean | undefined>,
): string {
  const lines = [`[${section}]`];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    lines.push(`${key} = ${typeof value === "boolean" ? (value ? 1 : 0) : value}`);
  }
  return lines.join("\n") + "\n";
}
