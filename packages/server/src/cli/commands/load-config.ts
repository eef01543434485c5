import type { ServerConfig } from "../../config/schema.js";
import { readConfigFile, resolveServerConfig } from "../../config/load.js";
import type { CliInvocation } from "../args.js";

/** The configuration a command runs with: file, then OSAD2_DATABASE, then flags. */
export async function loadCliConfig(
  invocation: CliInvocation,
): Promise<{ config: ServerConfig; unknownKeys: readonly string[] }> {
  const file = await readConfigFile(invocation.configPath, invocation.configRequired);
  const config = resolveServerConfig({
    file: file.values,
    env: process.env,
    flags: invocation.flags,
  });
  return { config, unknownKeys: file.unknownKeys };
}
