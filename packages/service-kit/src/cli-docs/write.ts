// The build step of each CLI package: its man page and bash completion, written from its
// commander program into dist/ (shipped in the npm tarball, copied into the RPMs by the packager).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { renderBashCompletion } from "./bash-completion.js";
import { renderManPage, type ManPageInfo } from "./man-page.js";
import { describeProgram } from "./model.js";

/** What a CLI package declares for its documentation (its program, and the page's other sections). */
export interface CliDocs extends Omit<ManPageInfo, "date" | "source"> {
  /** Builds the program as the binary does (actions are never run). */
  readonly program: () => Command;
}

/** Where {@link writeCliDocs} put the files, relative to its `outDir`. */
export interface WrittenCliDocs {
  /** `man/osad2-server.8`. */
  readonly manPage: string;
  /** `completions/osad2-server.bash`. */
  readonly bashCompletion: string;
}

/**
 * The page's date: SOURCE_DATE_EPOCH when set (reproducible builds), else today, in UTC.
 * @param env Default process.env.
 */
export function docsDate(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  return new Date(Number.isFinite(epoch) && epoch > 0 ? epoch * 1000 : Date.now())
    .toISOString()
    .slice(0, 10);
}

/** Writes `man/<program>.<section>` and `completions/<program>.bash` below `outDir`. */
export async function writeCliDocs(
  docs: CliDocs,
  outDir: string,
  meta: { readonly version: string; readonly date?: string },
): Promise<WrittenCliDocs> {
  const program = describeProgram(docs.program());
  const manPage = join("man", `${program.name}.${String(docs.section)}`);
  const bashCompletion = join("completions", `${program.name}.bash`);
  const { program: _program, ...info } = docs;
  await mkdir(join(outDir, "man"), { recursive: true });
  await mkdir(join(outDir, "completions"), { recursive: true });
  await writeFile(
    join(outDir, manPage),
    renderManPage(program, {
      ...info,
      date: meta.date ?? docsDate(),
      source: `osad2 ${meta.version}`,
    }),
  );
  await writeFile(join(outDir, bashCompletion), renderBashCompletion(program));
  return { manPage, bashCompletion };
}
