import { readFile } from "node:fs/promises";
import { createClientPackage, type ClientPackage } from "./client-package.js";
import { InvalidOptionError } from "./errors.js";
import { describeSystemError } from "@osad2/service-kit";
import type { ClientPackageOptions } from "./options.js";

/** Options of {@link createClientPackages}: those of {@link createClientPackage} with many names. */
export interface ClientPackagesOptions extends Omit<ClientPackageOptions, "name"> {
  /** Client names, built in this order. */
  names: readonly string[];
}

/** The result for one name of a batch. */
export type ClientPackageOutcome =
  | { readonly name: string; readonly ok: true; readonly client: ClientPackage }
  | { readonly name: string; readonly ok: false; readonly error: Error };

/**
 * Builds one client package per name, one after the other (rpmbuild is CPU-bound). A failure is recorded
 * and the rest still get built. `onOutcome` hears each result as it happens (for progress output).
 */
export async function createClientPackages(
  options: ClientPackagesOptions,
  onOutcome?: (outcome: ClientPackageOutcome, index: number, total: number) => void,
): Promise<ClientPackageOutcome[]> {
  const { names, ...shared } = options;
  const outcomes: ClientPackageOutcome[] = [];
  for (const [index, name] of names.entries()) {
    let outcome: ClientPackageOutcome;
    try {
      outcome = { name, ok: true, client: await createClientPackage({ ...shared, name }) };
    } catch (error) {
      outcome = {
        name,
        ok: false,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
    outcomes.push(outcome);
    onOutcome?.(outcome, index, names.length);
  }
  return outcomes;
}

/** Client names from a file: one per line; blank lines and `#` comments are skipped, spaces trimmed. */
export async function readNamesFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new InvalidOptionError(
      "namesFrom",
      `cannot read ${path}: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
  const names = text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line.length > 0);
  if (names.length === 0)
    throw new InvalidOptionError("namesFrom", `${path} lists no client names`);
  return names;
}
