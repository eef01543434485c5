import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src");

/** Each folder of src/ is one node (`dispatch/`); top-level files are nodes of their own. */
function folderGraph(): Map<string, Set<string>> {
  const node = (file: string): string => {
    const [first, ...rest] = path.relative(src, file).split(path.sep);
    return rest.length === 0 ? (first ?? "") : `${first}/`;
  };
  const graph = new Map<string, Set<string>>();
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (file.endsWith(".ts")) {
        const text = fs.readFileSync(file, "utf8");
        for (const match of text.matchAll(/(?:import|export)[^"']*?from\s+"(\.[^"]+)"/g)) {
          const target = path.resolve(path.dirname(file), match[1] ?? "").replace(/\.js$/, ".ts");
          if (!target.startsWith(src)) continue; // ../package.json
          const [from, to] = [node(file), node(target)];
          if (from === to) continue;
          const edges = graph.get(from) ?? new Set<string>();
          edges.add(to);
          graph.set(from, edges);
        }
      }
    }
  };
  visit(src);
  return graph;
}

function cycles(graph: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const walk = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open")
        found.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) walk(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) walk(node);
  return found;
}

describe("source layout", () => {
  it("has no import cycle between folders of src/", () => {
    const graph = folderGraph();
    expect(graph.get("dispatch/")).toBeDefined(); // the scan found the imports
    expect(cycles(graph)).toEqual([]);
  });

  it("keeps the database layer and the XML-RPC codec free of the parts above them", () => {
    const graph = folderGraph();
    expect([...(graph.get("db/") ?? [])]).toEqual([]);
    expect([...(graph.get("xmlrpc/") ?? [])]).toEqual([]);
    // Parts report to telemetry through their own interfaces; telemetry depends on them, not back.
    for (const part of ["dispatch/", "presence/", "transport/"])
      expect([...(graph.get(part) ?? [])]).not.toContain("telemetry/");
  });
});
