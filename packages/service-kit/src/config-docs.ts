import { defaultText, type ConfigDefinition } from "./config-schema.js";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/**
 * The README table of a config: one row per key with its type, default, whether the seed
 * had it, and its doc line. Computed defaults (functions) are shown as `(computed)`.
 */
export function configDocsTable(definition: ConfigDefinition): string {
  const rows = Object.entries(definition.keys).map(([key, spec]) => {
    const shown = typeof spec.default === "function" ? "(computed)" : `\`${defaultText(spec)}\``;
    const aliases = spec.aliases?.length
      ? ` (also ${spec.aliases.map((a) => `\`${a}\``).join(", ")})`
      : "";
    const env = spec.env === undefined ? "" : ` Environment: \`${spec.env}\`.`;
    return `| \`${key}\`${aliases} | ${spec.type.name} | ${cell(shown === "``" ? "(empty)" : shown)} | ${spec.seed ? "seed" : "osad2"} | ${cell(spec.doc.replace(/\.$/, ""))}.${env} |`;
  });
  return [
    `| Key (\`[${definition.section}]\`) | Type | Default | From | Meaning |`,
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
