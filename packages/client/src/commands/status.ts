import type { CliArgs } from "../cli-args.js";
import { loadConfig } from "../config.js";
import { type ClientStatus, readStateFile, serviceAlive } from "../state.js";

/** `osad2-client status`: the state file, plus whether its process is still alive. */
export async function statusCommand(
  args: CliArgs,
): Promise<ClientStatus & { readonly alive: boolean }> {
  const config = await loadConfig({ configPath: args.configPath, overrides: args.overrides });
  const status = await readStateFile(config.stateFile);
  return { ...status, alive: await serviceAlive(status) };
}
