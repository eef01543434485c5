import fs from "node:fs/promises";
import path from "node:path";

/**
 * A stand-in for rhn_check: a real executable that appends "<label> <epoch-ms>" to a
 * log each time it runs, so tests count real runs of a real child process.
 */
export async function writeRecorderScript(
  dir: string,
  logFile: string,
  extra = "",
): Promise<string> {
  const script = path.join(dir, "fake-rhn-check.sh");
  await fs.writeFile(
    script,
    `#!/bin/sh
# Written by @osad2/testkit: records one rhn_check run.
label="\${1:-run}"
echo "$label $(date +%s%3N)" >> "${logFile}"
${extra}
echo "checked in"
`,
    { mode: 0o755 },
  );
  return script;
}

export interface RecordedRun {
  readonly label: string;
  readonly at: number;
}

export async function readRuns(logFile: string): Promise<RecordedRun[]> {
  let text = "";
  try {
    text = await fs.readFile(logFile, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [label, at] = line.split(" ");
      return { label: label ?? "", at: Number(at) };
    });
}

/** Runs per label: the "at least one, at most two" check of the fault tests. */
export function countByLabel(runs: readonly RecordedRun[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.label, (counts.get(run.label) ?? 0) + 1);
  return counts;
}
