import { loadServerConfig } from "../../config/load.js";
import type { ServerConfig } from "../../config/schema.js";
import type { CliInvocation } from "../args.js";

/** The configuration a command runs with: file, then OSAD2_DATABASE, then flags. */
export function loadCliConfig(invocation: CliInvocation): Promise<ServerConfig> {
  return loadServerConfig({
    path: invocation.configPath,
    required: invocation.configRequired,
    flags: invocation.flags,
    env: process.env,
  });
}
