// What `keys list` prints: a table for people, or JSON for scripts.
import type { KeyList, KeyListing } from "../keys-list.js";

const HEADERS = [
  "NAME",
  "KIND",
  "STATE",
  "SYSTEM",
  "CLIENT",
  "LAST SEEN",
  "ADDRESS",
  "NOTE",
] as const;

/** One row per key, columns aligned; `-` for what is not known, `never` for never seen. */
export function formatKeyTable(list: KeyList): string {
  const unknown = list.usageError !== null;
  const rows = list.keys.map((key) => row(key, unknown));
  if (rows.length === 0) return "no client or proxy keys\n";
  const widths = HEADERS.map((header, i) =>
    Math.max(header.length, ...rows.map((cells) => (cells[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(HEADERS), ...rows.map(line)].join("\n")}\n`;
}

/** `{keys, usageFile, usageError}`, two-space indented. */
export function formatKeyJson(list: KeyList): string {
  return `${JSON.stringify(list, null, 2)}\n`;
}

function row(key: KeyListing, usageUnknown: boolean): string[] {
  const usage = key.usage;
  const system =
    usage === null
      ? "-"
      : [usage.serverId ?? "", usage.profileName === null ? "" : `(${usage.profileName})`]
          .join(" ")
          .trim() || "-";
  return [
    key.name,
    key.kind,
    key.state,
    usageUnknown ? "?" : system,
    usageUnknown ? "?" : (usage?.clientName ?? "-"),
    usageUnknown ? "?" : (usage?.lastSeen ?? "never"),
    usageUnknown ? "?" : (usage?.address ?? "-"),
    note(key),
  ];
}

function note(key: KeyListing): string {
  const proxy = proxyNote(key);
  const state = stateNote(key);
  return [proxy, state].filter((text) => text !== "").join("; ");
}

/** `host dmz.example.com, behind dmz` for a proxy, from what createproxy recorded. */
function proxyNote(key: KeyListing): string {
  if (key.proxy === null) return "";
  return [
    key.proxy.host === null ? "" : `host ${key.proxy.host}`,
    key.proxy.parent === null ? "" : `behind ${key.proxy.parent}`,
  ]
    .filter((text) => text !== "")
    .join(", ");
}

function stateNote(key: KeyListing): string {
  switch (key.state) {
    case "allowed":
      return "";
    case "retiring":
      return `allowed until ${key.deadline ?? "?"} or until the new key first connects`;
    case "expired":
      return `refused since ${key.deadline ?? "?"}; the running server moves it to revoked/`;
    case "revoked":
      return key.revokedAt === null ? "" : `revoked ${key.revokedAt}`;
  }
}
